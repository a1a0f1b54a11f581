// Who is signed in: the session's tokens, and the account read with them.
// A session that ends because its refresh was refused sends the user to
// the login page with a note, and drops what was cached for them.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { unwrap } from "../api/problem";
import type { User } from "../api/types";
import { queryKeys } from "../queryKeys";
import { useApi } from "./api";

interface AuthState {
  signedIn: boolean;
  user: User | undefined;
  loading: boolean;
  /** Set when the session ended on its own (refresh refused). */
  expired: boolean;
  clearExpired: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

/**
 * AuthProvider follows the session. When it ends, the cached queries under
 * the keys in `privateKeys` are dropped (all of them when absent): what was
 * read with the user's token must not outlive the session.
 */
export function AuthProvider({ children, privateKeys }: { children: ReactNode; privateKeys?: readonly string[] }) {
  const api = useApi();
  const qc = useQueryClient();
  const tokens = useSyncExternalStore(
    (fn) => api.session.subscribe(fn),
    () => api.session.tokens,
  );
  const [expired, setExpired] = useState(false);
  useEffect(
    () =>
      api.session.subscribe((t, reason) => {
        if (t) return;
        setExpired(reason === "expired");
        if (!privateKeys) qc.clear();
        else for (const k of privateKeys) qc.removeQueries({ queryKey: [k] });
      }),
    [api, qc, privateKeys],
  );
  const me = useQuery({
    queryKey: queryKeys.me(),
    queryFn: () => unwrap(api.identity.GET("/api/v1/users/me")),
    enabled: tokens !== null,
    staleTime: 5 * 60_000,
  });
  const value: AuthState = {
    signedIn: tokens !== null,
    user: tokens ? me.data : undefined,
    loading: tokens !== null && me.isPending,
    expired,
    clearExpired: () => setExpired(false),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
