import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeServer, json } from "../../../../shared/src/test/fakeServer";
import { admin, renderApp, seller } from "../../test/render";

const entry = (offset: number, over: Record<string, unknown> = {}) => ({
  offset, key: `order-${offset}`, event_id: `e-${offset}`, event_type: "PAYMENT_SUCCESS", schema_version: 1, correlation_id: `order-${offset}`,
  original_topic: "payment.events", original_partition: 2, original_offset: 40 + offset, source_topic: "payment.events", cause: "rejected",
  error: "unknown order", attempts: 1, consumer: "order", failed_at: "2026-03-01T12:00:00Z", truncated: false, payload_bytes: 42,
  headers: [{ key: "event-id", value: `e-${offset}` }, { key: "dlq-error", value: "unknown order" }],
  payload: { json: { order_id: `order-${offset}`, amount: { amount_minor: 1999 } } }, replayable: true, replay_topic: "order.retry", replays: [],
  ...over,
});

function server(role = admin) {
  return new FakeServer()
    .on("GET /api/v1/users/me", () => json(role))
    .on("GET /api/v1/admin/dlq/order", (req) => {
      const cause = new URL(req.url).searchParams.get("cause");
      const all = [entry(3), entry(4, { cause: "malformed", replayable: false, not_replayable: "the payload does not decode", payload: { error: "proto: cannot parse", base64: "AAEC" } })];
      return json({ entries: cause ? all.filter((e) => e.cause === cause) : all });
    })
    .on("POST /api/v1/admin/dlq/order/replay", async (req) => {
      const body = (await req.json()) as { offsets: number[]; dry_run?: boolean };
      const status = body.dry_run ? "would_replay" : "replayed";
      return json({
        dry_run: !!body.dry_run,
        results: body.offsets.map((o) => ({ offset: o, event_id: `e-${o}`, event_type: "PAYMENT_SUCCESS", status, target_topic: "order.retry", replay_id: body.dry_run ? undefined : "r1" })),
        counts: { [status]: body.offsets.length },
      });
    });
}

describe("the dead-letter view", () => {
  it("shows each entry's cause, headers and decoded payload, and what replay would drop", async () => {
    renderApp("/dead-letters", server());
    const rows = await screen.findAllByRole("row");
    expect(rows.some((r) => within(r).queryByText("malformed"))).toBe(true);
    expect(screen.getByText(/Not replayable: the payload does not decode/)).toBeInTheDocument();
    await userEvent.click(screen.getAllByRole("button", { name: "Details" })[0]);
    const headers = screen.getByRole("table", { name: "Headers" });
    expect(within(within(headers).getByText("event-id").closest("tr")!).getByText("kept")).toBeInTheDocument();
    expect(within(within(headers).getByText("dlq-error").closest("tr")!).getByText("dropped")).toBeInTheDocument();
    expect(screen.getByText(/"amount_minor": 1999/)).toBeInTheDocument();
  });

  it("replays a selection only after a dry run and a confirmation, with the result per message", async () => {
    const s = server();
    renderApp("/dead-letters", s);
    await userEvent.click(await screen.findByRole("checkbox", { name: "Select entry 3" }));
    await userEvent.click(screen.getByRole("button", { name: "Replay selected (1)" }));
    const dialog = await screen.findByRole("dialog");
    await within(dialog).findByText(/Dry run: nothing was sent yet\. 1 would go to/);
    expect(within(dialog).getByText("would replay")).toBeInTheDocument();
    let sent = s.sent("POST /api/v1/admin/dlq/order/replay");
    expect(sent).toHaveLength(1);
    expect(await sent[0].json()).toEqual({ offsets: [3], dry_run: true });

    await userEvent.click(within(dialog).getByRole("button", { name: "Replay 1 message" }));
    await within(dialog).findByText("replayed");
    sent = s.sent("POST /api/v1/admin/dlq/order/replay");
    expect(sent).toHaveLength(2);
    expect(await sent[1].json()).toEqual({ offsets: [3] });
    expect(within(dialog).getByRole("status")).toHaveTextContent("1 replayed");
  });

  it("replays everything that matches the filter, by the filter", async () => {
    const s = server();
    renderApp("/dead-letters?cause=rejected", s);
    await screen.findByRole("checkbox", { name: "Select entry 3" });
    expect(screen.queryByRole("checkbox", { name: "Select entry 4" })).toBeNull();
    expect(new URL(s.sent("GET /api/v1/admin/dlq/order")[0].url).searchParams.get("cause")).toBe("rejected");
    s.on("POST /api/v1/admin/dlq/order/replay", async (req) => {
      const body = (await req.json()) as { filter: unknown; dry_run?: boolean };
      expect(body.filter).toEqual({ cause: "rejected" });
      return json({ dry_run: !!body.dry_run, results: [{ offset: 3, status: body.dry_run ? "would_replay" : "replayed", target_topic: "order.retry" }], counts: { [body.dry_run ? "would_replay" : "replayed"]: 1 } });
    });
    await userEvent.click(screen.getByRole("button", { name: "Replay all that match the filter…" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(await within(dialog).findByRole("button", { name: "Replay 1 message" }));
    await within(dialog).findByText("replayed");
  });

  it("is refused to a seller, who does not see it in the navigation either", async () => {
    renderApp("/dead-letters", server(seller));
    await screen.findByRole("heading", { name: "Administrators only" });
    const nav = screen.getByRole("navigation", { name: "Screens" });
    expect(within(nav).queryByRole("link", { name: "Dead letters" })).toBeNull();
    expect(within(nav).getByRole("link", { name: "Products" })).toBeInTheDocument();
  });
});

describe("the staff gate", () => {
  it("tells a customer clearly that the admin app is for staff", async () => {
    const s = new FakeServer().on("GET /api/v1/users/me", () => json({ ...admin, role: "CUSTOMER", email: "customer@shop.local" }));
    renderApp("/", s);
    await screen.findByRole("heading", { name: "This area is for staff" });
    expect(screen.getByText(/customer@shop.local/)).toBeInTheDocument();
    expect(screen.queryByRole("navigation", { name: "Screens" })).toBeNull();
    await waitFor(() => expect(s.sent("GET /api/v1/orders/stats/daily")).toHaveLength(0));
  });
});
