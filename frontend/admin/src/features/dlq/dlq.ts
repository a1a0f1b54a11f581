// The DLQ admin API of the five services (the same operations on each
// service's own path), typed per service from its OpenAPI document.
import { unwrap, type DeadLetterFilter, type ShopApi } from "@shop/shared";

export const dlqServices = ["order", "inventory", "payment", "identity", "catalog"] as const;
export type DlqService = (typeof dlqServices)[number];

export interface ListQuery extends DeadLetterFilter {
  cursor?: string;
  limit?: number;
}

export interface ReplayBody {
  offsets?: number[];
  filter?: DeadLetterFilter;
  cursor?: string;
  limit?: number;
  dry_run?: boolean;
}

/** listDeadLetters reads a page of a service's DLQ. */
export function listDeadLetters(api: ShopApi, service: DlqService, query: ListQuery) {
  const q = { params: { query } };
  switch (service) {
    case "order": return unwrap(api.order.GET("/api/v1/admin/dlq/order", q));
    case "inventory": return unwrap(api.inventory.GET("/api/v1/admin/dlq/inventory", q));
    case "payment": return unwrap(api.payment.GET("/api/v1/admin/dlq/payment", q));
    case "identity": return unwrap(api.identity.GET("/api/v1/admin/dlq/identity", q));
    case "catalog": return unwrap(api.catalog.GET("/api/v1/admin/dlq/catalog", q));
  }
}

/** replayDeadLetters replays a selection, or what matches a filter; dry_run only says what would happen. */
export function replayDeadLetters(api: ShopApi, service: DlqService, body: ReplayBody) {
  const b = { body };
  switch (service) {
    case "order": return unwrap(api.order.POST("/api/v1/admin/dlq/order/replay", b));
    case "inventory": return unwrap(api.inventory.POST("/api/v1/admin/dlq/inventory/replay", b));
    case "payment": return unwrap(api.payment.POST("/api/v1/admin/dlq/payment/replay", b));
    case "identity": return unwrap(api.identity.POST("/api/v1/admin/dlq/identity/replay", b));
    case "catalog": return unwrap(api.catalog.POST("/api/v1/admin/dlq/catalog/replay", b));
  }
}

/** The headers a replay drops (decision 0141): they describe the failed attempt, never travel again. */
export const droppedHeaders = [
  "dlq-original-topic", "dlq-original-partition", "dlq-original-offset", "dlq-error", "dlq-cause", "dlq-attempts",
  "dlq-consumer", "dlq-failed-at", "dlq-payload-truncated",
] as const;

/** The envelope headers a replay keeps (the event ID among them, so consumers stay idempotent). */
export const keptHeaders = ["event-id", "event-type", "schema-version", "occurred-at", "correlation-id", "causation-id", "traceparent"] as const;

/** headerFate says what a replay does with a header. */
export function headerFate(key: string): "kept" | "dropped" {
  return (keptHeaders as readonly string[]).includes(key) ? "kept" : "dropped";
}
