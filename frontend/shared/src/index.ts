export { createShopApi, type ShopApi, type ApiOptions } from "./api/client";
export { Session, type Tokens, type EndReason } from "./api/session";
export { authFetch } from "./api/authFetch";
export { ProblemError, isProblem, errorMessage, unwrap } from "./api/problem";
export { watchOrder, parseEvents, type WatchOptions } from "./api/progress";
export { queryKeys } from "./queryKeys";
export { formatMoney } from "./money";
export { formatDateTime, formatDuration, formatAge } from "./time";
export type * from "./api/types";
