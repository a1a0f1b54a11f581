import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { errorMessage, formatDateTime, formatMoney, queryKeys, unwrap, type Product, type ProductStatus } from "@shop/shared";
import { useApi, useAuth, usePageTitle } from "@shop/shared/react";
import { Alert, Badge, Button, Dialog, ErrorState, Loading, Money, SelectField, TextAreaField, TextField, useFieldErrors } from "@shop/shared/ui";
import { flatten } from "./categories";
import { productTone } from "./ProductsPage";

const toMinor = (s: string) => Math.round(Number(s.replace(",", ".")) * 100);
const toMajor = (minor: number) => (minor / 100).toFixed(2);

function useCategories() {
  const api = useApi();
  return useQuery({ queryKey: queryKeys.categories(), queryFn: () => unwrap(api.catalog.GET("/api/v1/categories")) });
}

/** A new product: its seller (the caller, or a seller an admin names), details, price and status. */
export function NewProductPage() {
  usePageTitle("New product", "Shop admin");
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { user } = useAuth();
  const cats = useCategories();
  const create = useMutation({
    mutationFn: (f: FormData) => {
      const seller = String(f.get("seller_id") ?? "").trim();
      return unwrap(api.catalog.POST("/api/v1/products", {
        body: {
          sku: String(f.get("sku")).trim(), name: String(f.get("name")).trim(), description: String(f.get("description") ?? ""),
          price_minor: toMinor(String(f.get("price"))), currency: String(f.get("currency")).trim().toUpperCase(),
          category_id: String(f.get("category_id") ?? "") || null, status: String(f.get("status")) as ProductStatus,
          ...(seller ? { seller_id: seller } : {}),
        },
      }));
    },
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ["catalog"] });
      navigate(`/products/${p.id}`, { state: { created: true } });
    },
  });
  const { byField, rest } = useFieldErrors(create.error, ["sku", "name", "description", "price_minor", "currency", "category_id", "status", "seller_id"]);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate(new FormData(e.currentTarget));
  };
  return (
    <>
      <h1>New product</h1>
      <form className="card form" onSubmit={submit} noValidate>
        {rest !== undefined && rest !== null && <Alert tone="error" title="Could not create the product">{errorMessage(rest)}</Alert>}
        <TextField label="Name" name="name" required error={byField.name} />
        <TextField label="SKU" name="sku" required error={byField.sku} hint="Unique in the catalogue, e.g. HK-KIT-010" />
        <TextAreaField label="Description" name="description" error={byField.description} />
        <div className="form__row">
          <TextField label="Price" name="price" inputMode="decimal" required error={byField.price_minor} hint="e.g. 24.99" />
          <TextField label="Currency" name="currency" defaultValue="EUR" required error={byField.currency} />
        </div>
        <SelectField label="Category" name="category_id" error={byField.category_id} defaultValue="">
          <option value="">No category</option>
          {flatten(cats.data?.items ?? []).map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
        </SelectField>
        <SelectField label="Status" name="status" defaultValue="ACTIVE" error={byField.status} hint="Draft products are seen only by their seller and admins.">
          <option value="DRAFT">Draft</option>
          <option value="ACTIVE">Active (on sale)</option>
        </SelectField>
        {user?.role === "ADMIN" && <TextField label="Seller ID (optional)" name="seller_id" error={byField.seller_id} hint="Who owns it; empty: you." />}
        <Button type="submit" busy={create.isPending}>Create product</Button>
      </form>
    </>
  );
}

/** A product: edit, change its price (with the history), archive or restore. */
export function ProductPage() {
  const { id = "" } = useParams();
  const api = useApi();
  const product = useQuery({
    queryKey: queryKeys.product(id),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/products/{id}", { params: { path: { id } } })),
  });
  usePageTitle(product.data?.name ?? "Product", "Shop admin");
  if (product.isPending) return <Loading label="Loading the product…" />;
  if (product.isError) return <ErrorState error={product.error} />;
  return <ProductView p={product.data} />;
}

function ProductView({ p }: { p: Product }) {
  const api = useApi();
  const qc = useQueryClient();
  const cats = useCategories();
  const [archiving, setArchiving] = useState(false);
  const refresh = (next: Product) => {
    qc.setQueryData(queryKeys.product(p.id), next);
    void qc.invalidateQueries({ queryKey: ["catalog", "products"] });
    void qc.invalidateQueries({ queryKey: queryKeys.prices(p.id) });
  };
  const save = useMutation({
    mutationFn: (f: FormData) => unwrap(api.catalog.PATCH("/api/v1/products/{id}", {
      params: { path: { id: p.id }, header: { "If-Match": `"v${p.version}"` } },
      body: {
        name: String(f.get("name")).trim(), sku: String(f.get("sku")).trim(), description: String(f.get("description") ?? ""),
        category_id: String(f.get("category_id") ?? "") || null, status: String(f.get("status")) as ProductStatus,
      },
    })),
    onSuccess: refresh,
  });
  const price = useMutation({
    mutationFn: (f: FormData) => unwrap(api.catalog.PUT("/api/v1/products/{id}/price", {
      params: { path: { id: p.id }, header: { "If-Match": `"v${p.version}"` } },
      body: { price_minor: toMinor(String(f.get("price"))) },
    })),
    onSuccess: refresh,
  });
  const archive = useMutation({
    mutationFn: () => unwrap(api.catalog.DELETE("/api/v1/products/{id}", { params: { path: { id: p.id } } })),
    onSuccess: (next) => {
      setArchiving(false);
      refresh(next);
    },
  });
  const history = useQuery({
    queryKey: queryKeys.prices(p.id),
    queryFn: () => unwrap(api.catalog.GET("/api/v1/products/{id}/prices", { params: { path: { id: p.id }, query: { limit: 50 } } })),
  });
  const edit = useFieldErrors(save.error, ["name", "sku", "description", "category_id", "status"]);
  const priceErr = useFieldErrors(price.error, ["price_minor"]);
  return (
    <>
      <div className="page-head">
        <h1>{p.name}</h1>
        <Badge tone={productTone[p.status]}>{p.status}</Badge>
      </div>
      <p className="muted">SKU <code>{p.sku}</code> · version {p.version} · seller <code className="id">{p.seller_id.slice(0, 8)}</code> · <Link to={`/inventory/${p.id}`}>Stock and ledger</Link></p>
      <div className="detail-grid">
        <form className="card form" aria-labelledby="edit-title" noValidate key={p.version}
          onSubmit={(e) => { e.preventDefault(); save.mutate(new FormData(e.currentTarget)); }}>
          <h2 id="edit-title">Details</h2>
          {save.isSuccess && <Alert tone="success">Saved.</Alert>}
          {edit.rest !== undefined && edit.rest !== null && <Alert tone="error" title="Could not save">{errorMessage(edit.rest)}</Alert>}
          <TextField label="Name" name="name" defaultValue={p.name} error={edit.byField.name} />
          <TextField label="SKU" name="sku" defaultValue={p.sku} error={edit.byField.sku} />
          <TextAreaField label="Description" name="description" defaultValue={p.description} error={edit.byField.description} />
          <SelectField label="Category" name="category_id" defaultValue={p.category_id ?? ""} error={edit.byField.category_id}>
            <option value="">No category</option>
            {flatten(cats.data?.items ?? []).map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
          </SelectField>
          <SelectField label="Status" name="status" defaultValue={p.status} error={edit.byField.status}
            hint={p.status === "ARCHIVED" ? "Restore to Draft to change it again." : undefined}>
            {p.status === "ARCHIVED" ? <><option value="ARCHIVED">Archived</option><option value="DRAFT">Draft (restore)</option></> : <>
              <option value="DRAFT">Draft</option><option value="ACTIVE">Active (on sale)</option></>}
          </SelectField>
          <div className="actions">
            <Button type="submit" busy={save.isPending}>Save</Button>
            {p.status !== "ARCHIVED" && <Button variant="danger" onClick={() => setArchiving(true)}>Archive…</Button>}
          </div>
        </form>
        <section className="card" aria-labelledby="price-title">
          <h2 id="price-title">Price</h2>
          <p className="price-now"><Money minor={p.price_minor} currency={p.currency} /></p>
          <form className="form form--inline" noValidate key={`price-${p.version}`} onSubmit={(e) => { e.preventDefault(); price.mutate(new FormData(e.currentTarget)); }}>
            <TextField label={`New price (${p.currency})`} name="price" inputMode="decimal" defaultValue={toMajor(p.price_minor)} error={priceErr.byField.price_minor} />
            <Button type="submit" busy={price.isPending}>Change price</Button>
          </form>
          {priceErr.rest !== undefined && priceErr.rest !== null && <Alert tone="error" title="Could not change the price">{errorMessage(priceErr.rest)}</Alert>}
          <h3>Price history</h3>
          {history.isPending ? <Loading /> : history.isError ? <ErrorState error={history.error} /> : (
            <table className="table table--compact">
              <caption className="visually-hidden">Price history, newest first</caption>
              <thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">To</th><th scope="col">By</th></tr></thead>
              <tbody>
                {history.data.items.map((r) => (
                  <tr key={r.version}>
                    <td>{formatDateTime(r.changed_at)}</td>
                    <td>{r.old_price_minor === null || r.old_price_minor === undefined ? "(created)" : formatMoney(r.old_price_minor, r.old_currency ?? r.currency)}</td>
                    <td>{formatMoney(r.price_minor, r.currency)}</td>
                    <td><code className="id">{r.changed_by.slice(0, 8)}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <Dialog open={archiving} title="Archive this product?" onClose={() => setArchiving(false)}
        actions={<Button variant="danger" busy={archive.isPending} onClick={() => archive.mutate()}>Archive</Button>}>
        <p>It can no longer be ordered and leaves the shop's lists; orders that have it keep their copy. You can restore it later.</p>
        {archive.error && <Alert tone="error" title="Could not archive">{errorMessage(archive.error)}</Alert>}
      </Dialog>
    </>
  );
}
