import type { IntegrationStatus } from "../api/types";

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
