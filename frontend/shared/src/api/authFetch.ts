// A fetch that attaches the session's access token and, on a 401, refreshes
// the token pair once and sends the request once more. Requests that fail
// together share one refresh. A refused refresh (or a 401 with the fresh
// token) ends the session: the app shows the login page, nothing half
// signed in is left behind.
import type { Session, Tokens } from "./session";

export type Refresher = (refreshToken: string) => Promise<Tokens | null>;

export function authFetch(session: Session, refresh: Refresher, base: typeof fetch = (r) => fetch(r)) {
  let refreshing: Promise<Tokens | null> | null = null;

  const refreshOnce = (used: Tokens): Promise<Tokens | null> => {
    const now = session.tokens;
    if (now && now.accessToken !== used.accessToken) return Promise.resolve(now); // refreshed meanwhile
    if (!now) return Promise.resolve(null);
    refreshing ??= (async () => {
      try {
        const fresh = await refresh(now.refreshToken);
        if (fresh) session.set(fresh);
        else session.end("expired");
        return fresh;
      } catch {
        session.end("expired");
        return null;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  return async (request: Request): Promise<Response> => {
    const used = session.tokens;
    if (!used || request.headers.has("Authorization")) return base(request);
    const again = request.clone();
    request.headers.set("Authorization", `Bearer ${used.accessToken}`);
    const res = await base(request);
    if (res.status !== 401) return res;
    const fresh = await refreshOnce(used);
    if (!fresh) return res;
    again.headers.set("Authorization", `Bearer ${fresh.accessToken}`);
    const retried = await base(again);
    if (retried.status === 401) session.end("expired");
    return retried;
  };
}
