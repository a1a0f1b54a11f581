// The one query-key scheme of the apps: every TanStack Query key starts
// with its service and resource, so invalidating ["order"] refreshes every
// order query, ["order", "detail", id] one order.
type Filters = Record<string, string | number | boolean | undefined>;

export const queryKeys = {
  me: () => ["identity", "me"] as const,
  users: (filters: Filters) => ["identity", "users", filters] as const,
  sellerApplications: () => ["identity", "seller-applications"] as const,
  categories: () => ["catalog", "categories"] as const,
  products: (filters: Filters) => ["catalog", "products", filters] as const,
  product: (id: string) => ["catalog", "product", id] as const,
  prices: (id: string) => ["catalog", "prices", id] as const,
  availability: (productId: string) => ["inventory", "availability", productId] as const,
  stockList: (filters: Filters) => ["inventory", "list", filters] as const,
  movements: (productId: string) => ["inventory", "movements", productId] as const,
  reservations: (filters: Filters) => ["inventory", "reservations", filters] as const,
  reservation: (orderId: string) => ["inventory", "reservation", orderId] as const,
  orders: (userId: string) => ["order", "list", userId] as const,
  orderList: (filters: Filters) => ["order", "all", filters] as const,
  order: (id: string) => ["order", "detail", id] as const,
  progress: (id: string) => ["order", "progress", id] as const,
  stats: (filters: Filters) => ["order", "stats", filters] as const,
  daily: (filters: Filters) => ["order", "daily", filters] as const,
  payment: (orderId: string) => ["payment", "byOrder", orderId] as const,
  deadLetters: (service: string, filters: Filters) => ["dlq", service, filters] as const,
};
