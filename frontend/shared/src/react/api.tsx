// The app's one API client, handed down by context so that tests give
// their own.
import { createContext, useContext, type ReactNode } from "react";
import type { ShopApi } from "../api/client";

const ApiContext = createContext<ShopApi | null>(null);

export function ApiProvider({ api, children }: { api: ShopApi; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): ShopApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside ApiProvider");
  return api;
}
