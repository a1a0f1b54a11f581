import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { errorMessage, formatDateTime, queryKeys, unwrap, type Role, type User } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { Alert, Badge, Button, Dialog, EmptyState, ErrorState, Loading, Pager, SelectField, TextField } from "@shop/shared/ui";

const roles: Role[] = ["CUSTOMER", "SELLER", "ADMIN"];

/** Users (ADMIN): search, change a role, disable and re-enable; seller applications to decide. */
export function UsersPage() {
  usePageTitle("Users", "Shop admin");
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const role = (params.get("role") ?? "") as Role | "";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const [acting, setActing] = useState<User | null>(null);
  const list = useQuery({
    queryKey: queryKeys.users({ q, role, cursor }),
    queryFn: () => unwrap(api.identity.GET("/api/v1/users", { params: { query: { q: q || undefined, role: role || undefined, cursor, limit: 25 } } })),
    placeholderData: keepPreviousData,
  });
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of ["q", "role"]) {
      const v = String(f.get(k) ?? "").trim();
      if (v) p.set(k, v);
    }
    setParams(p, { replace: true });
    setCursors([]);
  };
  return (
    <>
      <h1>Users</h1>
      <SellerApplications />
      <form className="filters" role="search" aria-label="Find users" onSubmit={search} key={params.toString()}>
        <TextField label="Email or name" name="q" type="search" defaultValue={q} />
        <SelectField label="Role" name="role" defaultValue={role}>
          <option value="">Any role</option>
          {roles.map((r) => <option key={r} value={r}>{r}</option>)}
        </SelectField>
        <Button type="submit" variant="secondary">Search</Button>
      </form>
      {list.isPending ? <Loading label="Loading users…" /> : list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> :
        list.data.items.length === 0 ? <EmptyState title="No user matches" /> : (
          <>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Users</caption>
                <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Last login</th><th scope="col">Manage</th></tr></thead>
                <tbody>
                  {list.data.items.map((u) => (
                    <tr key={u.id}>
                      <td>{u.display_name}</td>
                      <td>{u.email}</td>
                      <td><Badge tone={u.role === "ADMIN" ? "info" : u.role === "SELLER" ? "success" : "neutral"}>{u.role}</Badge></td>
                      <td>{u.disabled ? <><Badge tone="danger">Disabled</Badge>{u.disabled_reason && <span className="small"> {u.disabled_reason}</span>}</> : "Active"}</td>
                      <td>{u.last_login_at ? formatDateTime(u.last_login_at) : "never"}</td>
                      <td><Button variant="secondary" onClick={() => setActing(u)} aria-label={`Manage ${u.email}`}>Manage…</Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={cursors.length + 1} hasPrevious={cursors.length > 0} hasNext={!!list.data.next_cursor} busy={list.isFetching}
              onPrevious={() => setCursors((c) => c.slice(0, -1))} onNext={() => list.data.next_cursor && setCursors((c) => [...c, list.data.next_cursor!])} />
          </>
        )}
      {acting && <ManageDialog user={acting} onClose={() => setActing(null)} />}
    </>
  );
}

function ManageDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const me = useAuth().user;
  const [role, setRole] = useState<Role>(user.role);
  const [reason, setReason] = useState("");
  const done = () => {
    void qc.invalidateQueries({ queryKey: ["identity", "users"] });
    onClose();
  };
  const path = { params: { path: { id: user.id } } };
  const changeRole = useMutation({ mutationFn: () => unwrap(api.identity.PATCH("/api/v1/users/{id}/role", { ...path, body: { role } })), onSuccess: done });
  const disable = useMutation({ mutationFn: () => unwrap(api.identity.POST("/api/v1/users/{id}/disable", { ...path, body: reason.trim() ? { reason: reason.trim() } : {} })), onSuccess: done });
  const enable = useMutation({ mutationFn: () => unwrap(api.identity.POST("/api/v1/users/{id}/enable", path)), onSuccess: done });
  const error = changeRole.error ?? disable.error ?? enable.error;
  const self = me?.id === user.id;
  return (
    <Dialog open title={`Manage ${user.email}`} onClose={onClose}>
      {self && <Alert tone="info">This is your own account: you cannot change your own role or disable yourself.</Alert>}
      {error && <Alert tone="error" title="That did not work">{errorMessage(error)}</Alert>}
      <div className="form form--inline">
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={self}>
          {roles.map((r) => <option key={r} value={r}>{r}</option>)}
        </SelectField>
        <Button disabled={self || role === user.role} busy={changeRole.isPending} onClick={() => changeRole.mutate()}>Change role</Button>
      </div>
      <p className="small">A role change or a disable revokes the user's tokens at once; their next sign-in gets the new role.</p>
      {user.disabled ? (
        <Button busy={enable.isPending} disabled={self} onClick={() => enable.mutate()}>Re-enable the account</Button>
      ) : (
        <div className="form form--inline">
          <TextField label="Reason for disabling" value={reason} onChange={(e) => setReason(e.target.value)} disabled={self} />
          <Button variant="danger" disabled={self} busy={disable.isPending} onClick={() => disable.mutate()}>Disable the account</Button>
        </div>
      )}
    </Dialog>
  );
}

function SellerApplications() {
  const api = useApi();
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: queryKeys.sellerApplications(),
    queryFn: () => unwrap(api.identity.GET("/api/v1/users/seller-applications", { params: { query: { status: "PENDING" } } })),
  });
  const decide = useMutation({
    mutationFn: ({ id, approve }: { id: string; approve: boolean }) =>
      unwrap(approve
        ? api.identity.POST("/api/v1/users/seller-applications/{id}/approve", { params: { path: { id } } })
        : api.identity.POST("/api/v1/users/seller-applications/{id}/reject", { params: { path: { id } }, body: {} })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.sellerApplications() });
      void qc.invalidateQueries({ queryKey: ["identity", "users"] });
    },
  });
  if (list.isPending || list.isError || list.data.items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="apps-title">
      <h2 id="apps-title">Seller applications waiting</h2>
      {decide.error && <Alert tone="error" title="Could not decide">{errorMessage(decide.error)}</Alert>}
      <ul className="applications">
        {list.data.items.map((a) => (
          <li key={a.id}>
            <strong>{a.display_name}</strong> ({a.email}), {formatDateTime(a.created_at)}{a.note && <>: “{a.note}”</>}
            <span className="actions">
              <Button busy={decide.isPending} onClick={() => decide.mutate({ id: a.id, approve: true })}>Approve</Button>
              <Button variant="danger" busy={decide.isPending} onClick={() => decide.mutate({ id: a.id, approve: false })}>Reject</Button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
