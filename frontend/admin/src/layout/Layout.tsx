import { useEffect, useRef } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { useApi, useAuth } from "@shop/shared/react";
import { screensFor } from "../roles";

/** The frame of every screen: the role's navigation and the content. */
export function Layout() {
  const api = useApi();
  const { user } = useAuth();
  const loc = useLocation();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new screen's content, as a page load would.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [loc.pathname]);
  const items = screensFor(user?.role);
  return (
    <div className={items.length > 0 ? "shell" : "shell shell--bare"}>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <span className="topbar__brand">Shop admin</span>
        {user && (
          <span className="topbar__user">
            {user.display_name} <span className="ui-tag ui-tag--neutral">{user.role}</span>
          </span>
        )}
        {user && (
          <button type="button" className="ui-button ui-button--link topbar__logout" onClick={() => void api.logout()}>
            Log out
          </button>
        )}
      </header>
      {items.length > 0 && (
        <nav className="sidenav" aria-label="Screens">
          <ul>
            {items.map((s) => (
              <li key={s.path}>
                <NavLink to={s.path} end={s.path === "/"}>{s.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" ref={main} tabIndex={-1} className="content">
        <Outlet />
      </main>
    </div>
  );
}
