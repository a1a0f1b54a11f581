// Who is signed in (the shared package's AuthProvider). A session that ends
// drops the shopper's own data; the public catalog stays cached.
import type { ReactNode } from "react";
import { AuthProvider as SharedAuthProvider } from "@shop/shared/react";

export { useAuth } from "@shop/shared/react";

const privateKeys = ["identity", "order", "payment"] as const;

export function AuthProvider({ children }: { children: ReactNode }) {
  return <SharedAuthProvider privateKeys={privateKeys}>{children}</SharedAuthProvider>;
}
