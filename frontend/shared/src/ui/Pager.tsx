import { Button } from "./Button";

interface Props {
  /** The page number (1 for the first), for the label. */
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  busy?: boolean;
  label?: string;
}

/** Previous / next over a keyset-paged list (the APIs' next_cursor). */
export function Pager({ page, hasPrevious, hasNext, onPrevious, onNext, busy, label = "Pages" }: Props) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="ui-pager" aria-label={label}>
      <Button variant="secondary" disabled={!hasPrevious || busy} onClick={onPrevious}>Previous page</Button>
      <span aria-live="polite">Page {page}</span>
      <Button variant="secondary" disabled={!hasNext || busy} onClick={onNext}>Next page</Button>
    </nav>
  );
}

