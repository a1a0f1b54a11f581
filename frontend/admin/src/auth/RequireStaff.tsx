import type { ReactNode } from "react";
import { Link, Navigate, useLocation } from "react-router-dom";
import { useApi, useAuth } from "@shop/shared/react";
import { Button, ErrorState, Loading } from "@shop/shared/ui";
import { isStaff, mayOpen } from "../roles";

/**
 * The gate of every screen: the login page for nobody, a clear refusal for
 * a customer, and for staff only the screens of their role.
 */
export function RequireStaff({ screen, children }: { screen: string; children: ReactNode }) {
  const api = useApi();
  const { signedIn, user, loading } = useAuth();
  const loc = useLocation();
  if (!signedIn) {
    const next = encodeURIComponent(loc.pathname + loc.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  if (loading) return <Loading label="Checking your account…" />;
  if (!user) return <ErrorState title="Your account could not be read" error={new Error("Please log in again.")} onRetry={() => void api.logout()} />;
  if (!isStaff(user.role)) {
    return (
      <section className="refusal" aria-labelledby="refusal-title">
        <h1 id="refusal-title">This area is for staff</h1>
        <p>
          You are signed in as <strong>{user.email}</strong>, a customer account. The admin app is for the shop's
          administrators and sellers.
        </p>
        <p>
          <a href="/">Go to the shop</a> or log out and sign in with a staff account.
        </p>
        <Button variant="secondary" onClick={() => void api.logout()}>Log out</Button>
      </section>
    );
  }
  if (!mayOpen(user.role, screen)) {
    return (
      <section className="refusal" aria-labelledby="refusal-title">
        <h1 id="refusal-title">Administrators only</h1>
        <p>This screen is for administrators. Your account is a seller account.</p>
        <p><Link to="/">Back to the dashboard</Link></p>
      </section>
    );
  }
  return <>{children}</>;
}
