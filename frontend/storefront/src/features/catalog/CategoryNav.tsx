import { NavLink } from "react-router-dom";
import type { CategoryNode } from "@shop/shared";
import { useCategories } from "./queries";

function Branch({ nodes }: { nodes: CategoryNode[] }) {
  return (
    <ul>
      {nodes.map((c) => (
        <li key={c.id}>
          <NavLink to={`/c/${c.path}`}>{c.name}</NavLink>
          {c.children && c.children.length > 0 && <Branch nodes={c.children} />}
        </li>
      ))}
    </ul>
  );
}

/** The category tree; its loading and failure stay quiet (the list still works). */
export function CategoryNav() {
  const { data, isPending, isError } = useCategories();
  return (
    <nav className="category-nav" aria-label="Categories">
      <h2 className="category-nav__title">Categories</h2>
      {isPending && <p className="muted">Loading categories…</p>}
      {isError && <p className="muted">Categories are not available right now.</p>}
      {data && (
        <ul>
          <li>
            <NavLink to="/" end>
              All products
            </NavLink>
          </li>
          {data.items.length > 0 && <li><Branch nodes={data.items} /></li>}
        </ul>
      )}
    </nav>
  );
}
