import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { errorMessage } from "@shop/shared";
import { Alert, Button, TextField, useFieldErrors } from "@shop/shared/ui";
import { useApi } from "../api";
import { useAuth } from "./auth";
import { usePageTitle } from "../layout/usePageTitle";

/** safeNext keeps redirects inside the app. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  usePageTitle("Log in");
  const api = useApi();
  const { expired, clearExpired } = useAuth();
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <section className="narrow card">
      <h1>Log in</h1>
      {expired && !login.error && <Alert tone="warning" title="Your session has ended">Please log in again.</Alert>}
      {rest !== undefined && rest !== null && <Alert tone="error" title="Could not log in">{errorMessage(rest)}</Alert>}
      <form onSubmit={submit} noValidate>
        <TextField label="Email" type="email" autoComplete="email" required value={email} error={byField.email}
          onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Password" type="password" autoComplete="current-password" required value={password}
          error={byField.password} onChange={(e) => setPassword(e.target.value)} />
        <Button type="submit" busy={login.isPending}>Log in</Button>
      </form>
      <p>
        New here? <Link to={`/register${params.get("next") ? `?next=${encodeURIComponent(params.get("next")!)}` : ""}`}>Create an account</Link>
      </p>
    </section>
  );
}
