import { useQuery } from "@tanstack/react-query";
import { queryKeys, unwrap } from "@shop/shared";
import { useApi, useAuth } from "@shop/shared/react";

/** Product names by ID for the stock screens (inventory keeps SKUs only): the first 100 products the user may manage. */
export function useProductNames(): Map<string, string> {
  const api = useApi();
  const { user } = useAuth();
  const seller = user?.role === "SELLER" ? user.id : undefined;
  const q = useQuery({
    queryKey: queryKeys.products({ names: true, seller }),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/products", { params: { query: { seller, limit: 100 } } })),
    enabled: !!user,
    staleTime: 60_000,
  });
  return new Map((q.data?.items ?? []).map((p) => [p.id, p.name]));
}
