import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { errorMessage } from "@shop/shared";
import { Alert, Button, TextField, useFieldErrors } from "@shop/shared/ui";
import { useApi } from "../api";
import { safeNext } from "./LoginPage";
import { usePageTitle } from "../layout/usePageTitle";

export function RegisterPage() {
  usePageTitle("Create an account");
  const api = useApi();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const register = useMutation({
    mutationFn: async () => {
      await api.register(form.email.trim(), form.password, form.name.trim());
      await api.login(form.email.trim(), form.password);
    },
    onSuccess: () => navigate(safeNext(params.get("next")), { replace: true }),
  });
  const { byField, rest } = useFieldErrors(register.error, ["display_name", "email", "password"]);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };
  return (
    <section className="narrow card">
      <h1>Create an account</h1>
      {rest !== undefined && rest !== null && <Alert tone="error" title="Could not create the account">{errorMessage(rest)}</Alert>}
      <form onSubmit={submit} noValidate>
        <TextField label="Your name" autoComplete="name" required value={form.name} error={byField.display_name} onChange={set("name")} />
        <TextField label="Email" type="email" autoComplete="email" required value={form.email} error={byField.email} onChange={set("email")} />
        <TextField label="Password" type="password" autoComplete="new-password" required value={form.password}
          hint="At least 10 characters, not your email." error={byField.password} onChange={set("password")} />
        <Button type="submit" busy={register.isPending}>Create account</Button>
      </form>
      <p>
        Already have an account? <Link to={`/login${params.get("next") ? `?next=${encodeURIComponent(params.get("next")!)}` : ""}`}>Log in</Link>
      </p>
    </section>
  );
}
