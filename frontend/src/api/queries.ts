// Query keys and the retry rule every query shares.
import { ApiError } from "./problem";

export const keys = {
  list: ["integrations"] as const,
  integration: (id: string) => ["integration", id] as const,
  status: (id: string) => ["status", id] as const,
};

/** Retry only what may pass on a second try: network failures and 5xx without a Retry-After to honour. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const transient = error.kind === "network" || (error.status >= 500 && error.retryAfterSeconds === null);
  return transient && failureCount < 2;
}

export function isRouteMissing(error: unknown): boolean {
  return (
    error instanceof ApiError && error.status === 404 && (error.kind === "gateway" || error.code === "route_not_found")
  );
}
