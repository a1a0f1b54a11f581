// RFC 9457 problems as errors the UI can show: the title and detail, and
// the per-field messages keyed by the field they name, so that a form puts
// each next to its input.
import type { Problem } from "./types";

export class ProblemError extends Error {
  readonly status: number;
  /** The slug of the problem type (urn:shop:problem:<slug>), e.g. "validation". */
  readonly slug: string;
  readonly title: string;
  readonly detail?: string;
  /** Field name (as the API names it, e.g. "email" or "lines[0].quantity") to message. */
  readonly fields: Record<string, string>;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    const title = problem?.title || (status === 0 ? "The shop cannot be reached" : `Request failed (${status})`);
    super(problem?.detail || title);
    this.name = "ProblemError";
    this.status = status;
    this.slug = (problem?.type ?? "").replace(/^urn:shop:problem:/, "");
    this.title = title;
    this.detail = problem?.detail;
    this.fields = {};
    for (const e of problem?.errors ?? []) {
      if (e.field && !(e.field in this.fields)) this.fields[e.field] = e.message;
    }
  }
}

/** Whether err is a problem with this slug. */
export function isProblem(err: unknown, slug?: string): err is ProblemError {
  return err instanceof ProblemError && (slug === undefined || err.slug === slug);
}

/** A human sentence for any error, for alerts. */
export function errorMessage(err: unknown): string {
  if (err instanceof ProblemError) return err.detail && err.detail !== err.title ? `${err.title}: ${err.detail}` : err.title;
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}

/**
 * unwrap turns openapi-fetch's { data, error, response } into the data, or
 * throws a ProblemError (a network failure is status 0).
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ProblemError(0, { detail: "Check your connection and try again." });
  }
  const { data, error, response } = result;
  if (!response.ok) throw new ProblemError(response.status, (error ?? undefined) as Partial<Problem> | undefined);
  return data as T;
}
