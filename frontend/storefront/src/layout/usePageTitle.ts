export { usePageTitle } from "@shop/shared/react";
