import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { createShopApi } from "@shop/shared";
import "@shop/shared/ui.css";
import "./styles.css";
import { App, newQueryClient } from "./App";

const api = createShopApi();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App api={api} queryClient={newQueryClient()} />
    </BrowserRouter>
  </StrictMode>,
);
