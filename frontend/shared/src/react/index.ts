export { ApiProvider, useApi } from "./api";
export { AuthProvider, useAuth } from "./auth";
export { usePageTitle } from "./usePageTitle";
