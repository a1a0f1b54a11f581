// Names for the generated schema types that the apps use. Nothing here is
// written by hand but the names: the shapes come from the OpenAPI documents.
import type { components as Catalog } from "./generated/catalog";
import type { components as Identity } from "./generated/identity";
import type { components as Inventory } from "./generated/inventory";
import type { components as OrderApi } from "./generated/order";
import type { components as PaymentApi } from "./generated/payment";

export type Product = Catalog["schemas"]["Product"];
export type ProductPage = Catalog["schemas"]["ProductPage"];
export type CategoryNode = Catalog["schemas"]["CategoryNode"];
export type Stock = Inventory["schemas"]["Stock"];
export type User = Identity["schemas"]["User"];
export type TokenPair = Identity["schemas"]["TokenPair"];
export type Order = OrderApi["schemas"]["Order"];
export type OrderStatus = OrderApi["schemas"]["Status"];
export type OrderProgress = OrderApi["schemas"]["OrderProgress"];
export type TimelineEntry = OrderApi["schemas"]["TimelineEntry"];
export type Payment = PaymentApi["schemas"]["Payment"];
export type Problem = Identity["schemas"]["Problem"];
