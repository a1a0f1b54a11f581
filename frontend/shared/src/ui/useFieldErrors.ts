import { ProblemError } from "../api/problem";

/**
 * useFieldErrors splits an error into the messages of the fields a form
 * shows (by the API's field name) and what is left for the form's alert.
 */
export function useFieldErrors(error: unknown, fields: readonly string[]) {
  const byField: Record<string, string | undefined> = {};
  let rest: unknown = error;
  if (error instanceof ProblemError) {
    let placed = 0;
    for (const f of fields) {
      if (error.fields[f]) {
        byField[f] = error.fields[f];
        placed++;
      }
    }
    const unplaced = Object.keys(error.fields).filter((f) => !fields.includes(f));
    // When every message found its field, the alert has nothing to add.
    if (placed > 0 && unplaced.length === 0) rest = undefined;
  }
  return { byField, rest };
}
