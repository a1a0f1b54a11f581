import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { createShopApi } from "@shop/shared";
import type { FakeServer } from "../../../shared/src/test/fakeServer";
import { App, newQueryClient } from "../App";

/** renderApp renders the admin app at path against a fake gateway, signed in unless told otherwise. */
export function renderApp(path: string, server: FakeServer, opts: { signedIn?: boolean } = { signedIn: true }) {
  const api = createShopApi({ baseUrl: "http://shop.test", storage: null, fetch: server.fetch });
  if (opts.signedIn) api.session.set({ accessToken: "token", refreshToken: "refresh" });
  const qc = newQueryClient();
  qc.setDefaultOptions({ queries: { retry: false, staleTime: 0 }, mutations: { retry: false } });
  const view = render(
    <MemoryRouter initialEntries={[path]}>
      <App api={api} queryClient={qc} />
    </MemoryRouter>,
  );
  return { ...view, api };
}

export const admin = { id: "00000000-0000-7000-8000-000000000001", email: "admin@shop.local", display_name: "Demo Admin", role: "ADMIN", disabled: false, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
export const seller = { ...admin, id: "00000000-0000-7000-8000-000000000002", email: "seller@shop.local", display_name: "Demo Seller", role: "SELLER" };
export const customer = { ...admin, id: "00000000-0000-7000-8000-000000000003", email: "customer@shop.local", display_name: "Demo Customer", role: "CUSTOMER" };
