import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { queryKeys, unwrap } from "@shop/shared";
import { useApi } from "../../api";

export type Sort = "relevance" | "price_asc" | "price_desc" | "newest";

export interface ProductFilters {
  q?: string;
  category?: string;
  sort?: Sort;
  min_price?: number;
  max_price?: number;
}

export const PAGE_SIZE = 12;

export function useProducts(f: ProductFilters) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.products({ ...f }),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.catalog.GET("/api/v1/products", {
          params: { query: { ...f, limit: PAGE_SIZE, cursor: pageParam } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
}

export function useCategories() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.categories(),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/categories")),
    staleTime: 10 * 60_000,
  });
}

export function useProduct(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.product(id),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/products/{id}", { params: { path: { id } } })),
  });
}

/** Live availability: read again every 10 s while the page is open. */
export function useAvailability(productId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.availability(productId),
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory/{productId}", { params: { path: { productId } } })),
    refetchInterval: 10_000,
    retry: 1,
  });
}
