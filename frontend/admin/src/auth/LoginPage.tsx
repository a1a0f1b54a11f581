import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { errorMessage } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { Alert, Button, TextField, useFieldErrors } from "@shop/shared/ui";

/** safeNext keeps redirects inside the app. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  usePageTitle("Sign in", "Shop admin");
  const api = useApi();
  const { signedIn, expired, clearExpired } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: () => api.login(email.trim(), password),
    onSuccess: () => {
      clearExpired();
      navigate(safeNext(params.get("next")), { replace: true });
    },
  });
  const { byField, rest } = useFieldErrors(login.error, ["email", "password"]);
  if (signedIn && !login.isPending) return <Navigate to={safeNext(params.get("next"))} replace />;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <main id="main" className="login">
      <section className="login__card" aria-labelledby="login-title">
        <p className="login__brand">Shop admin</p>
        <h1 id="login-title">Staff sign-in</h1>
        {expired && !login.error && <Alert tone="warning" title="Your session has ended">Please sign in again.</Alert>}
        {rest !== undefined && rest !== null && <Alert tone="error" title="Could not sign in">{errorMessage(rest)}</Alert>}
        <form onSubmit={submit} noValidate>
          <TextField label="Email" type="email" autoComplete="username" required value={email} error={byField.email}
            onChange={(e) => setEmail(e.target.value)} />
          <TextField label="Password" type="password" autoComplete="current-password" required value={password}
            error={byField.password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" busy={login.isPending}>Sign in</Button>
        </form>
        <p className="muted">Shoppers: the shop is at <a href="/">the storefront</a>.</p>
      </section>
    </main>
  );
}
