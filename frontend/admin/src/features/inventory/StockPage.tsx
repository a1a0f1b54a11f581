import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { errorMessage, formatDateTime, isProblem, queryKeys, unwrap } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { Alert, Badge, Button, ErrorState, Loading, Pager, SelectField, TextField, useFieldErrors } from "@shop/shared/ui";
import { ReservationsTable } from "./ReservationsPage";
import { useProductNames } from "./useProductNames";

/** One product's stock: the figures, set or adjust them with a reason, its ledger and what holds it now. */
export function StockPage() {
  const { id = "" } = useParams();
  const api = useApi();
  const qc = useQueryClient();
  const name = useProductNames().get(id);
  usePageTitle(name ? `Stock of ${name}` : "Stock", "Shop admin");
  const stock = useQuery({
    queryKey: queryKeys.availability(id),
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory/{productId}", { params: { path: { productId: id } } })),
    // A product just created reaches inventory through catalog's event.
    retry: (n, err) => isProblem(err) && err.status === 404 && n < 10,
    retryDelay: 500,
  });
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const ledger = useQuery({
    queryKey: [...queryKeys.movements(id), cursor ?? ""],
    queryFn: () => unwrap(api.inventory.GET("/api/v1/inventory/{productId}/movements", { params: { path: { productId: id }, query: { cursor, limit: 20 } } })),
    enabled: stock.isSuccess,
  });
  const changed = () => {
    void qc.invalidateQueries({ queryKey: ["inventory"] });
    setCursors([]);
  };
  const set = useMutation({
    mutationFn: (f: FormData) => {
      const t = String(f.get("threshold") ?? "").trim();
      return unwrap(api.inventory.PUT("/api/v1/inventory/{productId}", {
        params: { path: { productId: id } },
        body: { on_hand: Number(f.get("on_hand")), low_stock_threshold: t === "" ? null : Number(t) },
      }));
    },
    onSuccess: changed,
  });
  const [adjustKey, setAdjustKey] = useState(() => crypto.randomUUID());
  const adjust = useMutation({
    mutationFn: (f: FormData) => unwrap(api.inventory.POST("/api/v1/inventory/{productId}/adjust", {
      params: { path: { productId: id }, header: { "Idempotency-Key": adjustKey } },
      body: { delta: Number(f.get("delta")), reason: String(f.get("reason")).trim(), kind: String(f.get("kind")) as "ADJUSTED" | "RECEIVED" },
    })),
    onSuccess: () => {
      setAdjustKey(crypto.randomUUID());
      changed();
    },
  });
  const setErr = useFieldErrors(set.error, ["on_hand", "low_stock_threshold"]);
  const adjErr = useFieldErrors(adjust.error, ["delta", "reason", "kind"]);
  if (stock.isPending) return <Loading label="Loading the stock…" />;
  if (stock.isError) return <ErrorState error={stock.error} title={isProblem(stock.error) && stock.error.status === 404 ? "Inventory has not heard of this product yet" : undefined} onRetry={() => void stock.refetch()} />;
  const s = stock.data;
  return (
    <>
      <div className="page-head">
        <h1>Stock of {name ?? s.sku}</h1>
        {s.low_stock && <Badge tone="warning">Low stock</Badge>}
      </div>
      <p className="muted"><code>{s.sku}</code> · <Link to={`/products/${id}`}>Product details</Link></p>
      <ul className="kpis" aria-label="Stock figures">
        <li><span className="kpi__label">On hand</span><span className="kpi__value">{s.on_hand}</span></li>
        <li><span className="kpi__label">Reserved</span><span className="kpi__value">{s.reserved}</span></li>
        <li className={s.low_stock ? "kpi--alert" : undefined}><span className="kpi__label">Available</span><span className="kpi__value">{s.available}</span></li>
        <li><span className="kpi__label">Low stock at</span><span className="kpi__value">{s.low_stock_threshold}</span></li>
      </ul>
      <div className="detail-grid">
        <form className="card form" aria-labelledby="set-title" noValidate key={`set-${s.updated_at}`}
          onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); set.mutate(new FormData(e.currentTarget)); }}>
          <h2 id="set-title">Set the stock</h2>
          {set.isSuccess && <Alert tone="success">Stock saved.</Alert>}
          {setErr.rest !== undefined && setErr.rest !== null && <Alert tone="error" title="Could not set the stock">{errorMessage(setErr.rest)}</Alert>}
          <TextField label="Units on hand" name="on_hand" type="number" min={0} defaultValue={s.on_hand} error={setErr.byField.on_hand} hint="A count: the ledger records the difference." />
          <TextField label="Low-stock threshold" name="threshold" type="number" min={0} defaultValue={s.low_stock_threshold ?? ""} error={setErr.byField.low_stock_threshold} hint="Empty: the shop's default." />
          <Button type="submit" busy={set.isPending}>Save stock</Button>
        </form>
        <form className="card form" aria-labelledby="adjust-title" noValidate
          onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); adjust.mutate(new FormData(e.currentTarget)); }}>
          <h2 id="adjust-title">Adjust with a reason</h2>
          {adjust.isSuccess && <Alert tone="success">Adjusted.</Alert>}
          {adjErr.rest !== undefined && adjErr.rest !== null && <Alert tone="error" title="Could not adjust">{errorMessage(adjErr.rest)}</Alert>}
          <TextField label="Change (units, + or −)" name="delta" type="number" error={adjErr.byField.delta} />
          <SelectField label="Kind" name="kind" defaultValue="ADJUSTED" error={adjErr.byField.kind}>
            <option value="ADJUSTED">Correction (damage, loss, recount)</option>
            <option value="RECEIVED">Goods received</option>
          </SelectField>
          <TextField label="Reason for the change" name="reason" error={adjErr.byField.reason} />
          <Button type="submit" busy={adjust.isPending}>Adjust</Button>
        </form>
      </div>
      <section className="card" aria-labelledby="res-title">
        <h2 id="res-title">Held by reservations now</h2>
        <ReservationsTable productId={id} />
      </section>
      <section className="card" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Stock ledger</h2>
        {ledger.isPending ? <Loading /> : ledger.isError ? <ErrorState error={ledger.error} /> : (
          <>
            <div className="table-wrap">
              <table className="table table--compact">
                <caption className="visually-hidden">Stock movements, newest first</caption>
                <thead>
                  <tr><th scope="col">When</th><th scope="col">Movement</th><th scope="col" className="num">On hand</th><th scope="col" className="num">Reserved</th>
                    <th scope="col" className="num">On hand after</th><th scope="col" className="num">Reserved after</th><th scope="col">Order</th><th scope="col">Reason / by</th></tr>
                </thead>
                <tbody>
                  {ledger.data.items.map((m) => (
                    <tr key={m.id}>
                      <td>{formatDateTime(m.created_at)}</td>
                      <td>{m.kind}</td>
                      <td className="num">{m.on_hand_delta ? (m.on_hand_delta > 0 ? `+${m.on_hand_delta}` : m.on_hand_delta) : ""}</td>
                      <td className="num">{m.reserved_delta ? (m.reserved_delta > 0 ? `+${m.reserved_delta}` : m.reserved_delta) : ""}</td>
                      <td className="num">{m.on_hand_after}</td>
                      <td className="num">{m.reserved_after}</td>
                      <td>{m.order_id ? <Link to={`/orders/${m.order_id}`} className="id">{m.order_id.slice(0, 8)}</Link> : ""}</td>
                      <td>{m.reason}{m.actor_id ? <> · <code className="id">{m.actor_id.slice(0, 8)}</code></> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Ledger pages" page={cursors.length + 1} hasPrevious={cursors.length > 0} hasNext={!!ledger.data.next_cursor} busy={ledger.isFetching}
              onPrevious={() => setCursors((c) => c.slice(0, -1))} onNext={() => ledger.data.next_cursor && setCursors((c) => [...c, ledger.data.next_cursor!])} />
          </>
        )}
      </section>
    </>
  );
}
