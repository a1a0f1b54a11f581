import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, type ReactNode } from "react";
import { Link, Route, Routes } from "react-router-dom";
import type { ShopApi } from "@shop/shared";
import { ApiProvider, AuthProvider } from "@shop/shared/react";
import { EmptyState, Loading } from "@shop/shared/ui";
import { LoginPage } from "./auth/LoginPage";
import { RequireStaff } from "./auth/RequireStaff";
import { DeadLettersPage } from "./features/dlq/DeadLettersPage";
import { InventoryPage } from "./features/inventory/InventoryPage";
import { ReservationsPage } from "./features/inventory/ReservationsPage";
import { StockPage } from "./features/inventory/StockPage";
import { OrderPage } from "./features/orders/OrderPage";
import { OrdersPage } from "./features/orders/OrdersPage";
import { CategoriesPage } from "./features/products/CategoriesPage";
import { NewProductPage, ProductPage } from "./features/products/ProductPage";
import { ProductsPage } from "./features/products/ProductsPage";
import { StuckPage } from "./features/stuck/StuckPage";
import { UsersPage } from "./features/users/UsersPage";
import { Layout } from "./layout/Layout";

export function newQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 15_000, retry: 1, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

// The charts library is most of the app's size: loaded with the dashboard only.
const DashboardPage = lazy(() => import("./features/dashboard/DashboardPage").then((m) => ({ default: m.DashboardPage })));

function NotFound() {
  return <EmptyState title="This page does not exist"><p><Link to="/">Go to the dashboard</Link></p></EmptyState>;
}

/** gate puts a screen behind the role check of its navigation entry. */
const gate = (screen: string, page: ReactNode) => <RequireStaff screen={screen}>{page}</RequireStaff>;

/** App is the admin app without its router (main.tsx and tests give one). */
export function App({ api, queryClient }: { api: ShopApi; queryClient: QueryClient }) {
  return (
    <ApiProvider api={api}>
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <Routes>
            <Route path="login" element={<LoginPage />} />
            <Route element={<Layout />}>
              <Route index element={gate("/", <Suspense fallback={<Loading label="Loading the dashboard…" />}><DashboardPage /></Suspense>)} />
              <Route path="orders" element={gate("/orders", <OrdersPage />)} />
              <Route path="orders/:id" element={gate("/orders", <OrderPage />)} />
              <Route path="stuck" element={gate("/stuck", <StuckPage />)} />
              <Route path="products" element={gate("/products", <ProductsPage />)} />
              <Route path="products/new" element={gate("/products", <NewProductPage />)} />
              <Route path="products/:id" element={gate("/products", <ProductPage />)} />
              <Route path="categories" element={gate("/categories", <CategoriesPage />)} />
              <Route path="inventory" element={gate("/inventory", <InventoryPage />)} />
              <Route path="inventory/:id" element={gate("/inventory", <StockPage />)} />
              <Route path="reservations" element={gate("/reservations", <ReservationsPage />)} />
              <Route path="dead-letters" element={gate("/dead-letters", <DeadLettersPage />)} />
              <Route path="users" element={gate("/users", <UsersPage />)} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </AuthProvider>
      </QueryClientProvider>
    </ApiProvider>
  );
}
