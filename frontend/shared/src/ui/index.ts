export { Button } from "./Button";
export { TextField } from "./TextField";
export { Alert } from "./Alert";
export { Loading, EmptyState, ErrorState } from "./States";
export { Money } from "./Money";
export { StatusBadge, statusLabel } from "./StatusBadge";
export { useFieldErrors } from "./useFieldErrors";
