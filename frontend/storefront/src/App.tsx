import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Route, Routes } from "react-router-dom";
import type { ShopApi } from "@shop/shared";
import { ApiProvider } from "./api";
import { AuthProvider } from "./auth/auth";
import { LoginPage } from "./auth/LoginPage";
import { RegisterPage } from "./auth/RegisterPage";
import { RequireAuth } from "./auth/RequireAuth";
import { CartPage } from "./features/cart/CartPage";
import { ProductListPage } from "./features/catalog/ProductListPage";
import { ProductPage } from "./features/catalog/ProductPage";
import { CheckoutPage } from "./features/checkout/CheckoutPage";
import { OrderPage } from "./features/orders/OrderPage";
import { OrdersPage } from "./features/orders/OrdersPage";
import { Layout } from "./layout/Layout";
import { EmptyState } from "@shop/shared/ui";
import { Link } from "react-router-dom";

export function newQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, retry: 1, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

function NotFound() {
  return (
    <EmptyState title="This page does not exist">
      <p><Link to="/">Go to the shop</Link></p>
    </EmptyState>
  );
}

/** App is the storefront without its router (main.tsx and tests give one). */
export function App({ api, queryClient }: { api: ShopApi; queryClient: QueryClient }) {
  return (
    <ApiProvider api={api}>
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <Routes>
            <Route element={<Layout />}>
              <Route index element={<ProductListPage />} />
              <Route path="search" element={<ProductListPage />} />
              <Route path="c/*" element={<ProductListPage />} />
              <Route path="products/:id" element={<ProductPage />} />
              <Route path="cart" element={<CartPage />} />
              <Route path="login" element={<LoginPage />} />
              <Route path="register" element={<RegisterPage />} />
              <Route path="checkout" element={<RequireAuth><CheckoutPage /></RequireAuth>} />
              <Route path="orders" element={<RequireAuth><OrdersPage /></RequireAuth>} />
              <Route path="orders/:id" element={<RequireAuth><OrderPage /></RequireAuth>} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </AuthProvider>
      </QueryClientProvider>
    </ApiProvider>
  );
}
