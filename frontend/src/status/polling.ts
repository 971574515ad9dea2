import type { ConnectionStatus, Integration, IntegrationStatus } from "../api/types";

export const FAST_POLL_MS = 1_000;
export const SLOW_POLL_MS = 15_000;
export const SLOWEST_POLL_MS = 30_000;
/** Unchanged answers (304) in a row before slowing from SLOW to SLOWEST. */
export const UNCHANGED_BEFORE_SLOWEST = 4;

const IN_PROGRESS: ReadonlySet<IntegrationStatus> = new Set(["connecting", "disconnecting"]);

export function isInProgress(status: IntegrationStatus | undefined): boolean {
  return status !== undefined && IN_PROGRESS.has(status);
}

/** About a second while something is under way; afterwards 15 s, then 30 s once nothing changes. */
export function pollDelayMs(status: IntegrationStatus | undefined, unchangedPolls: number): number {
  if (isInProgress(status)) return FAST_POLL_MS;
  return unchangedPolls >= UNCHANGED_BEFORE_SLOWEST ? SLOWEST_POLL_MS : SLOW_POLL_MS;
}

/** What a list row shows about its number's connection. */
export type RowFacts = Pick<Integration, "status" | "last_error" | "last_checked_at">;

/**
 * The newer of two answers about a row: the list's own item (list items carry the status, the last error and the
 * last check), or the status endpoint's, when a poll of it (the row's own, or the open detail's) answered later.
 */
export function rowFacts(
  listed: RowFacts,
  listedAt: number,
  live: ConnectionStatus | undefined,
  liveAt: number,
): RowFacts {
  if (!live || liveAt < listedAt) return listed;
  return { status: live.status, last_error: live.last_error, last_checked_at: live.last_checked_at };
}

/**
 * A row polls its own status only while its number is connecting or disconnecting, and only once the list is
 * painted; everything else comes with the list's own refresh, so a hundred idle rows make no request at all.
 */
export function rowPolls(facts: RowFacts, painted: boolean): boolean {
  return painted && isInProgress(facts.status);
}
