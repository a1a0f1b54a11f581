import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { errorMessage, formatDateTime, queryKeys, type DeadLetter, type DeadLetterCause, type DeadLetterFilter, type DeadLetterReplayOutcome } from "@shop/shared";
import { useApi, usePageTitle } from "@shop/shared/react";
import { Alert, Badge, Button, Dialog, EmptyState, ErrorState, Loading, Pager, SelectField, TextField, type Tone } from "@shop/shared/ui";
import { dlqServices, droppedHeaders, headerFate, listDeadLetters, replayDeadLetters, type DlqService } from "./dlq";

const causes: DeadLetterCause[] = ["malformed", "unknown-schema", "rejected", "retries-exhausted", "unknown"];
const causeTone: Record<string, Tone> = { malformed: "danger", "unknown-schema": "warning", rejected: "danger", "retries-exhausted": "warning", unknown: "neutral" };
const resultTone: Record<string, Tone> = { replayed: "success", would_replay: "info", refused: "danger", not_found: "neutral", failed: "danger" };

/** What a replay is asked to cover: a selection of entries, or all that match the filter. */
type Scope = { kind: "selection"; offsets: number[] } | { kind: "filter"; filter: DeadLetterFilter };

/** The dead letters of one service, with their headers and decoded payloads; replay one, a selection or all that match, after a dry run. */
export function DeadLettersPage() {
  usePageTitle("Dead letters", "Shop admin");
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const service = (dlqServices as readonly string[]).includes(params.get("service") ?? "") ? (params.get("service") as DlqService) : "order";
  const filter: DeadLetterFilter = {
    cause: (params.get("cause") || undefined) as DeadLetterCause | undefined,
    event_type: params.get("event_type") || undefined,
    order_id: params.get("order_id") || undefined,
    replayed: params.get("replayed") ? params.get("replayed") === "true" : undefined,
  };
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [scope, setScope] = useState<Scope | null>(null);
  const list = useQuery({
    queryKey: queryKeys.deadLetters(service, { ...filter, cursor }),
    queryFn: () => listDeadLetters(api, service, { ...filter, cursor, limit: 50 }),
    placeholderData: keepPreviousData,
  });
  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of ["service", "cause", "event_type", "order_id", "replayed"]) {
      const v = String(f.get(k) ?? "").trim();
      if (v) p.set(k, v);
    }
    setParams(p, { replace: true });
    setCursors([]);
    setSelected(new Set());
  };
  const entries = list.data?.entries ?? [];
  const toggle = (offset: number) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(offset)) n.delete(offset);
      else n.add(offset);
      return n;
    });
  const allOnPage = entries.length > 0 && entries.every((e) => selected.has(e.offset));
  const hasFilter = Object.values(filter).some((v) => v !== undefined);
  return (
    <>
      <h1>Dead letters</h1>
      <p className="muted">
        Events a service's consumer could not handle. A replay sends the same event (same ID, so consumers that handled it skip it) to
        the failing service's own retry topic only, never back to the shared topic; the failure's headers
        ({droppedHeaders.length} of them, listed with each entry) do not travel again. Every replay is audited.
      </p>
      <form className="filters" aria-label="Choose the service and filter its dead letters" onSubmit={apply} key={params.toString()}>
        <SelectField label="Service" name="service" defaultValue={service}>
          {dlqServices.map((s) => <option key={s} value={s}>{s}</option>)}
        </SelectField>
        <SelectField label="Cause" name="cause" defaultValue={filter.cause ?? ""}>
          <option value="">Any cause</option>
          {causes.map((c) => <option key={c} value={c}>{c}</option>)}
        </SelectField>
        <TextField label="Event type" name="event_type" defaultValue={filter.event_type ?? ""} placeholder="e.g. PAYMENT_SUCCESS" />
        <TextField label="Order ID" name="order_id" defaultValue={filter.order_id ?? ""} />
        <SelectField label="Replayed" name="replayed" defaultValue={params.get("replayed") ?? ""}>
          <option value="">Either</option>
          <option value="false">Not yet</option>
          <option value="true">Replayed before</option>
        </SelectField>
        <Button type="submit" variant="secondary">Show</Button>
      </form>
      <div className="actions" role="group" aria-label="Replay">
        <Button disabled={selected.size === 0} onClick={() => setScope({ kind: "selection", offsets: [...selected].sort((a, b) => a - b) })}>
          Replay selected ({selected.size})
        </Button>
        <Button variant="secondary" disabled={entries.length === 0} onClick={() => setScope({ kind: "filter", filter })}>
          {hasFilter ? "Replay all that match the filter…" : "Replay all…"}
        </Button>
      </div>
      {list.isPending ? (
        <Loading label="Reading the dead-letter topic…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : entries.length === 0 ? (
        <EmptyState title={`No dead letters in ${service}${hasFilter ? " that match" : ""}`}>
          <p>Every event this service read was handled.</p>
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table dlq">
              <caption className="visually-hidden">Dead letters of {service}, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input type="checkbox" aria-label="Select every entry on this page" checked={allOnPage}
                      onChange={() => setSelected(allOnPage ? new Set() : new Set(entries.map((e) => e.offset)))} />
                  </th>
                  <th scope="col">Offset</th><th scope="col">Event</th><th scope="col">Cause</th><th scope="col">Order / key</th>
                  <th scope="col">Failed</th><th scope="col">Replay</th>
                </tr>
              </thead>
              {entries.map((e) => (
                <EntryRows key={e.offset} entry={e} selected={selected.has(e.offset)} onToggle={() => toggle(e.offset)}
                  onReplay={() => setScope({ kind: "selection", offsets: [e.offset] })} />
              ))}
            </table>
          </div>
          <Pager page={cursors.length + 1} hasPrevious={cursors.length > 0} hasNext={!!list.data.next_cursor} busy={list.isFetching}
            onPrevious={() => setCursors((c) => c.slice(0, -1))} onNext={() => list.data.next_cursor && setCursors((c) => [...c, list.data.next_cursor!])} />
        </>
      )}
      {scope && <ReplayDialog service={service} scope={scope} onClose={() => setScope(null)} onDone={() => setSelected(new Set())} />}
    </>
  );
}

/** One entry: its summary row, and its headers and payload on demand. */
export function EntryRows({ entry: e, selected, onToggle, onReplay }: { entry: DeadLetter; selected: boolean; onToggle: () => void; onReplay: () => void }) {
  const [open, setOpen] = useState(false);
  const detailId = `dlq-${e.offset}`;
  return (
    <tbody className="dlq__entry">
      <tr>
        <td><input type="checkbox" aria-label={`Select entry ${e.offset}`} checked={selected} onChange={onToggle} /></td>
        <td className="num">{e.offset}</td>
        <td><code>{e.event_type || "(unreadable)"}</code><br /><span className="muted small">{e.source_topic || e.original_topic}</span></td>
        <td><Badge tone={causeTone[e.cause] ?? "neutral"}>{e.cause}</Badge><br /><span className="muted small">{e.attempts} attempt{e.attempts === 1 ? "" : "s"}</span></td>
        <td><code className="id">{(e.correlation_id || e.key).slice(0, 13)}</code></td>
        <td>{formatDateTime(e.failed_at)}{e.replays.length > 0 && <><br /><Badge tone="info">replayed {e.replays.length}×</Badge></>}</td>
        <td>
          {e.replayable ? <Button variant="secondary" onClick={onReplay}>Replay…</Button> : <span className="small">Not replayable: {e.not_replayable}</span>}
          <br />
          <Button variant="link" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>{open ? "Hide details" : "Details"}</Button>
        </td>
      </tr>
      {open && (
        <tr id={detailId} className="dlq__detail">
          <td colSpan={7}>
            <p><strong>Error:</strong> {e.error}</p>
            <p className="small">
              Read from <code>{e.original_topic}</code> partition {e.original_partition} offset {e.original_offset} by {e.consumer};
              a replay goes to <code>{e.replay_topic ?? "(none)"}</code>. Event <code>{e.event_id}</code>, schema v{e.schema_version}.
            </p>
            <div className="dlq__cols">
              <table className="table table--compact">
                <caption>Headers</caption>
                <thead><tr><th scope="col">Header</th><th scope="col">Value</th><th scope="col">On replay</th></tr></thead>
                <tbody>
                  {e.headers.map((h, i) => (
                    <tr key={`${h.key}-${i}`}>
                      <th scope="row"><code>{h.key}</code></th><td className="wrap"><code>{h.value}</code></td>
                      <td>{headerFate(h.key) === "kept" ? <Badge tone="success">kept</Badge> : <Badge tone="neutral">dropped</Badge>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div>
                <h3 className="small-title">Payload{e.truncated ? " (cut to fit the size limit)" : ""}</h3>
                {e.payload.json ? (
                  <pre className="payload">{JSON.stringify(e.payload.json, null, 2)}</pre>
                ) : (
                  <>
                    <p className="small">Does not decode from the event contract: {e.payload.error}</p>
                    <pre className="payload">{e.payload.base64}</pre>
                  </>
                )}
              </div>
            </div>
            {e.replays.length > 0 && (
              <>
                <h3 className="small-title">Replays (audit)</h3>
                <ul>
                  {e.replays.map((r, i) => (
                    <li key={r.id ?? i}>{formatDateTime(r.at)} by admin <code className="id">{r.by.slice(0, 8)}</code> to <code>{r.target_topic}</code>: {r.outcome}</li>
                  ))}
                </ul>
              </>
            )}
          </td>
        </tr>
      )}
    </tbody>
  );
}

/** The replay: a dry run first (what would go where), then the replay on confirmation, with the result per message. */
export function ReplayDialog({ service, scope, onClose, onDone }: { service: DlqService; scope: Scope; onClose: () => void; onDone: () => void }) {
  const api = useApi();
  const qc = useQueryClient();
  const body = scope.kind === "selection" ? { offsets: scope.offsets } : { filter: scope.filter, limit: 500 };
  const dry = useQuery({
    queryKey: ["dlq-dry-run", service, body],
    queryFn: () => replayDeadLetters(api, service, { ...body, dry_run: true }),
    gcTime: 0,
    staleTime: 0,
  });
  const replay = useMutation({
    mutationFn: () => replayDeadLetters(api, service, body),
    onSuccess: () => {
      onDone();
      void qc.invalidateQueries({ queryKey: ["dlq", service] });
    },
  });
  const sendable = dry.data?.counts.would_replay ?? 0;
  const outcome = replay.data ?? dry.data;
  const what = scope.kind === "selection" ? `${scope.offsets.length} selected ${scope.offsets.length === 1 ? "entry" : "entries"}` : "every entry that matches the filter";
  return (
    <Dialog open title={replay.data ? "Replay done" : `Replay ${what} of ${service}?`} onClose={onClose}
      actions={!replay.data && (
        <Button busy={replay.isPending} disabled={dry.isPending || sendable === 0} onClick={() => replay.mutate()}>
          Replay {sendable} {sendable === 1 ? "message" : "messages"}
        </Button>
      )}>
      {dry.isPending ? (
        <Loading label="Dry run: checking what would be sent…" />
      ) : dry.isError ? (
        <Alert tone="error" title="The dry run failed">{errorMessage(dry.error)}</Alert>
      ) : (
        <>
          {!replay.data && (
            <p>
              Dry run: nothing was sent yet. {sendable} would go to <code>{dry.data.results.find((r) => r.target_topic)?.target_topic ?? `${service}.retry`}</code>
              {dry.data.counts.refused ? `, ${dry.data.counts.refused} would be refused (replay cannot fix them)` : ""}.
            </p>
          )}
          {replay.error && <Alert tone="error" title="The replay failed">{errorMessage(replay.error)}</Alert>}
          {outcome && <Results outcome={outcome} />}
        </>
      )}
    </Dialog>
  );
}

export function Results({ outcome }: { outcome: DeadLetterReplayOutcome }) {
  return (
    <>
      <p role="status">
        {Object.entries(outcome.counts).map(([k, v]) => `${v} ${k.replace("_", " ")}`).join(", ") || "Nothing to replay."}
        {outcome.next_cursor && " More match the filter: run the replay again for the rest."}
      </p>
      <table className="table table--compact">
        <caption className="visually-hidden">Result per message</caption>
        <thead><tr><th scope="col">Offset</th><th scope="col">Event</th><th scope="col">Result</th><th scope="col">Where / why</th></tr></thead>
        <tbody>
          {outcome.results.map((r) => (
            <tr key={r.offset}>
              <td className="num">{r.offset}</td>
              <td><code>{r.event_type ?? ""}</code></td>
              <td><Badge tone={resultTone[r.status] ?? "neutral"}>{r.status.replace("_", " ")}</Badge></td>
              <td className="wrap">{r.target_topic ? <code>{r.target_topic}</code> : null}{r.reason ? ` ${r.reason}` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
