// Times as staff read them: a date and time in the user's zone, and how
// long ago (or how soon).
const dateTime = new Map<string, Intl.DateTimeFormat>();

export function formatDateTime(iso: string | Date, locale?: string): string {
  const key = locale ?? "";
  let f = dateTime.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
    dateTime.set(key, f);
  }
  return f.format(typeof iso === "string" ? new Date(iso) : iso);
}

/** formatDuration says a span in its two largest units: "3 d 4 h", "12 min", "45 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const units: [number, string][] = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
  const parts: string[] = [];
  let rest = s;
  for (const [size, name] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
      if (parts.length === 2) break;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join(" ");
}

/** formatAge is how long ago iso was, from now. */
export function formatAge(iso: string, now = Date.now()): string {
  return formatDuration(now - new Date(iso).getTime());
}
