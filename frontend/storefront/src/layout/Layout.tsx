import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate, useSearchParams } from "react-router-dom";
import { useApi } from "../api";
import { useAuth } from "../auth/auth";
import { cartCount, useCart } from "../features/cart/cart";

function SearchBox() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [q, setQ] = useState(params.get("q") ?? "");
  useEffect(() => setQ(params.get("q") ?? ""), [params]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const term = q.trim();
    navigate(term ? `/search?q=${encodeURIComponent(term)}` : "/");
  };
  return (
    <form role="search" className="search" onSubmit={submit}>
      <label htmlFor="search" className="visually-hidden">Search products</label>
      <input id="search" type="search" placeholder="Search products" value={q} onChange={(e) => setQ(e.target.value)} />
      <button type="submit" className="ui-button ui-button--primary">Search</button>
    </form>
  );
}

export function Layout() {
  const api = useApi();
  const { signedIn, user } = useAuth();
  const count = cartCount(useCart());
  const loc = useLocation();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new page's content, as a page load would.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [loc.pathname]);
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="site-header">
        <div className="site-header__inner">
          <Link to="/" className="brand">Shop</Link>
          <SearchBox />
          <nav aria-label="Account" className="account-nav">
            <ul>
              <li>
                <NavLink to="/cart">
                  Cart <span className="cart-count" aria-label={`${count} items`}>{count}</span>
                </NavLink>
              </li>
              {signedIn ? (
                <>
                  <li><NavLink to="/orders">Orders</NavLink></li>
                  <li>
                    <button type="button" className="ui-button ui-button--link" onClick={() => void api.logout()}>
                      Log out{user ? <span className="visually-hidden"> {user.display_name}</span> : null}
                    </button>
                  </li>
                </>
              ) : (
                <>
                  <li><NavLink to="/login">Log in</NavLink></li>
                  <li><NavLink to="/register">Register</NavLink></li>
                </>
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="site-main">
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>Shop, an open-source order saga over Kafka. Payments are simulated: use the test cards.</p>
      </footer>
    </>
  );
}
