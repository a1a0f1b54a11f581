// The app's one API client comes from the shared package's context.
export { ApiProvider, useApi } from "@shop/shared/react";
