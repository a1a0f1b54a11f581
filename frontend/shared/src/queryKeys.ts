// The one query-key scheme of the apps: every TanStack Query key starts
// with its service and resource, so invalidating ["order"] refreshes every
// order query, ["order", "detail", id] one order.
export const queryKeys = {
  me: () => ["identity", "me"] as const,
  categories: () => ["catalog", "categories"] as const,
  products: (filters: Record<string, string | number | undefined>) => ["catalog", "products", filters] as const,
  product: (id: string) => ["catalog", "product", id] as const,
  availability: (productId: string) => ["inventory", "availability", productId] as const,
  orders: (userId: string) => ["order", "list", userId] as const,
  order: (id: string) => ["order", "detail", id] as const,
  progress: (id: string) => ["order", "progress", id] as const,
  payment: (orderId: string) => ["payment", "byOrder", orderId] as const,
};
