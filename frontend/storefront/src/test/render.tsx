import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { createShopApi } from "@shop/shared";
import type { FakeServer } from "../../../shared/src/test/fakeServer";
import { App, newQueryClient } from "../App";

/** renderApp renders the storefront at path against a fake gateway. */
export function renderApp(path: string, server: FakeServer, opts: { signedIn?: boolean } = {}) {
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

export const me = { id: "00000000-0000-7000-8000-000000000003", email: "c@shop.local", display_name: "Casey", role: "CUSTOMER", disabled: false, created_at: "2026-01-01T00:00:00Z" };

export function product(id: string, name: string, price: number, status = "ACTIVE") {
  return {
    id, sku: name.toUpperCase().replace(/\W/g, "").slice(0, 8), name, description: "", price_minor: price, currency: "EUR",
    seller_id: "00000000-0000-7000-8000-000000000002", category_id: null, status, images: [], attributes: {}, version: 1,
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  };
}
