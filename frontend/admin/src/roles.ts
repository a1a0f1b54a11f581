// Who may see which screen. Staff are ADMIN and SELLER; a SELLER sees its
// own products, stock, reservations and orders, never the ADMIN screens.
import type { Role } from "@shop/shared";

export type StaffRole = Extract<Role, "ADMIN" | "SELLER">;

export interface Screen {
  path: string;
  label: string;
  roles: readonly StaffRole[];
}

const both = ["ADMIN", "SELLER"] as const;
const admin = ["ADMIN"] as const;

/** The screens in the order of the navigation. */
export const screens: readonly Screen[] = [
  { path: "/", label: "Dashboard", roles: both },
  { path: "/orders", label: "Orders", roles: both },
  { path: "/stuck", label: "Stuck sagas", roles: admin },
  { path: "/products", label: "Products", roles: both },
  { path: "/categories", label: "Categories", roles: admin },
  { path: "/inventory", label: "Inventory", roles: both },
  { path: "/reservations", label: "Reservations", roles: both },
  { path: "/dead-letters", label: "Dead letters", roles: admin },
  { path: "/users", label: "Users", roles: admin },
];

export function isStaff(role: Role | undefined): role is StaffRole {
  return role === "ADMIN" || role === "SELLER";
}

/** screensFor lists the screens a role may open. */
export function screensFor(role: Role | undefined): Screen[] {
  return isStaff(role) ? screens.filter((s) => s.roles.includes(role)) : [];
}

export function mayOpen(role: Role | undefined, path: string): boolean {
  const s = screens.find((x) => x.path === path);
  return !!s && isStaff(role) && s.roles.includes(role);
}
