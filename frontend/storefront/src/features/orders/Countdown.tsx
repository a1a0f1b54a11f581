import { useEffect, useState } from "react";

/** mmss renders a duration in ms as m:ss. */
export function mmss(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** How long the reservation still holds, counting down every second. */
export function Countdown({ until, now = () => Date.now() }: { until: string; now?: () => number }) {
  const end = Date.parse(until);
  const [left, setLeft] = useState(() => end - now());
  useEffect(() => {
    const t = setInterval(() => setLeft(end - now()), 1000);
    return () => clearInterval(t);
  }, [end, now]);
  if (left <= 0) return <p className="hold hold--over">The reservation has run out; the order will be cancelled.</p>;
  return (
    <p className="hold">
      Your items are held for <strong>{mmss(left)}</strong> more
      <span className="visually-hidden"> (until {new Date(end).toLocaleTimeString()})</span>.
    </p>
  );
}
