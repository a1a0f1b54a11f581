import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { createShopApi } from "@shop/shared";
import "@shop/shared/ui.css";
import "./styles.css";
import { App, newQueryClient } from "./App";

// Staff keep a session of their own, apart from a shopper's in the
// storefront on the same origin.
const api = createShopApi({ sessionKey: "shop.admin.session" });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter basename="/admin">
      <App api={api} queryClient={newQueryClient()} />
    </BrowserRouter>
  </StrictMode>,
);
