import { formatDateTime } from "@shop/shared";
import { groupByStage, outcomeLabels, type TimelineItem } from "./timeline";

/** The saga timeline, grouped by stage, each step colour-coded and labelled by its outcome. */
export function Timeline({ items, live }: { items: readonly TimelineItem[]; live?: "live" | "polling" | "ended" }) {
  const groups = groupByStage(items);
  return (
    <section className="timeline card" aria-labelledby="timeline-title">
      <div className="timeline__head">
        <h2 id="timeline-title">Saga timeline</h2>
        {live === "live" && <span className="ui-tag ui-tag--success" role="status">Live: updates as they happen</span>}
        {live === "polling" && <span className="ui-tag ui-tag--warning" role="status">Updating every few seconds</span>}
      </div>
      <ul className="timeline__legend" aria-label="Outcomes">
        {(["success", "progress", "compensation", "retry", "failure", "ignored"] as const).map((o) => (
          <li key={o}><span className={`dot dot--${o}`} aria-hidden="true" />{outcomeLabels[o]}</li>
        ))}
      </ul>
      {groups.map((g) => (
        <section key={g.stage} className={`stage stage--${g.outcome}`} aria-label={`${g.stage}: ${outcomeLabels[g.outcome]}`}>
          <h3 className="stage__title">{g.stage}</h3>
          <ol className="steps">
            {g.items.map((it) => (
              <li key={it.key} className={`step step--${it.outcome}`}>
                <div className="step__line">
                  <span className={`ui-tag outcome outcome--${it.outcome}`}>{outcomeLabels[it.outcome]}</span>
                  <span className="step__title">{it.title}</span>
                  <span className="ui-tag ui-tag--neutral step__service">{it.service}</span>
                </div>
                <div className="step__meta">
                  <time dateTime={it.at}>{formatDateTime(it.at)}</time>
                  <span> · by {it.who}</span>
                  {it.event && <span> · event <code>{it.event.type}</code> <code className="id">{it.event.id.slice(0, 8)}</code></span>}
                  {it.emitted && <span> · published <code>{it.emitted.type}</code></span>}
                </div>
                {it.note && <p className="step__note">{it.note}</p>}
                {it.details.length > 0 && (
                  <dl className="step__details">
                    {it.details.map(([k, v]) => (
                      <div key={k}><dt>{k.replaceAll("_", " ")}</dt><dd>{v}</dd></div>
                    ))}
                  </dl>
                )}
              </li>
            ))}
          </ol>
        </section>
      ))}
    </section>
  );
}
