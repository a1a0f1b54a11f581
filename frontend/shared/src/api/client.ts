// The one API client of the apps: a typed openapi-fetch client per service
// (all behind the gateway's /api/v1), sharing the session and its token
// refresh.
import createClient from "openapi-fetch";
import { authFetch } from "./authFetch";
import type { paths as CatalogPaths } from "./generated/catalog";
import type { paths as IdentityPaths } from "./generated/identity";
import type { paths as InventoryPaths } from "./generated/inventory";
import type { paths as OrderPaths } from "./generated/order";
import type { paths as PaymentPaths } from "./generated/payment";
import { unwrap } from "./problem";
import { Session, type Tokens } from "./session";

export interface ApiOptions {
  /** Origin of the gateway; the page's own origin by default. */
  baseUrl?: string;
  /** Where the session is kept (localStorage by default; null keeps it in memory). */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** The network (tests pass their own). */
  fetch?: typeof fetch;
  /** The storage key of the session ("shop.session"): each app may keep its own. */
  sessionKey?: string;
}

export type ShopApi = ReturnType<typeof createShopApi>;

export function createShopApi(opts: ApiOptions = {}) {
  const baseUrl = opts.baseUrl ?? (typeof window !== "undefined" ? window.location.origin : "");
  const storage = opts.storage === undefined ? (typeof localStorage !== "undefined" ? localStorage : null) : opts.storage;
  const net: typeof fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const session = new Session(storage, opts.sessionKey);

  // The refresh goes around the token-attaching fetch: it must not itself
  // be refreshed.
  const plainIdentity = createClient<IdentityPaths>({ baseUrl, fetch: (r: Request) => net(r) });
  const refresh = async (refreshToken: string): Promise<Tokens | null> => {
    const { data, response } = await plainIdentity.POST("/api/v1/auth/refresh", { body: { refresh_token: refreshToken } });
    if (!response.ok || !data) return null;
    return { accessToken: data.access_token, refreshToken: data.refresh_token };
  };
  const fetchWithAuth = authFetch(session, refresh, (r) => net(r));
  const options = { baseUrl, fetch: fetchWithAuth };

  const identity = createClient<IdentityPaths>(options);
  return {
    baseUrl,
    session,
    /** fetch with the session's token and its refresh, for what the typed clients do not do (streams). */
    fetch: fetchWithAuth,
    identity,
    catalog: createClient<CatalogPaths>(options),
    inventory: createClient<InventoryPaths>(options),
    order: createClient<OrderPaths>(options),
    payment: createClient<PaymentPaths>(options),

    async login(email: string, password: string) {
      const t = await unwrap(plainIdentity.POST("/api/v1/auth/login", { body: { email, password } }));
      session.set({ accessToken: t.access_token, refreshToken: t.refresh_token });
    },

    async register(email: string, password: string, name: string) {
      await unwrap(plainIdentity.POST("/api/v1/auth/register", { body: { email, password, display_name: name, role: "CUSTOMER" } }));
    },

    /** Ends the session here and on the server (best effort there). */
    async logout() {
      const t = session.tokens;
      session.end("logout");
      if (t) await plainIdentity.POST("/api/v1/auth/logout", { body: { refresh_token: t.refreshToken } }).catch(() => undefined);
    },
  };
}
