import type { ConnectionStatus } from "../api/types";
import { statusBody } from "../test/render";
import { FAST_POLL_MS, pollDelayMs, rowFacts, rowPolls, SLOW_POLL_MS, SLOWEST_POLL_MS, UNCHANGED_BEFORE_SLOWEST } from "./polling";

describe("pollDelayMs", () => {
  it.each(["connecting", "disconnecting"] as const)("polls about every second while %s", (status) => {
    expect(pollDelayMs(status, 0)).toBe(FAST_POLL_MS);
    expect(pollDelayMs(status, 50)).toBe(FAST_POLL_MS);
  });

  it.each(["validated", "connected", "disconnected", "error", "reauth_required"] as const)(
    "slows down to 15 s, then 30 s once nothing changes, when %s",
    (status) => {
      expect(pollDelayMs(status, 0)).toBe(SLOW_POLL_MS);
      expect(pollDelayMs(status, UNCHANGED_BEFORE_SLOWEST - 1)).toBe(SLOW_POLL_MS);
      expect(pollDelayMs(status, UNCHANGED_BEFORE_SLOWEST)).toBe(SLOWEST_POLL_MS);
    },
  );

  it("polls slowly before the first answer", () => {
    expect(pollDelayMs(undefined, 0)).toBe(SLOW_POLL_MS);
  });
});

describe("a list row", () => {
  const listed = { status: "connected" as const, last_error: null, last_checked_at: "2026-11-29T10:00:00Z" };
  const live = statusBody("error", {
    last_error: { code: "evolution_not_open", message: "Closed.", fix: "Reconnect." },
    last_checked_at: "2026-11-29T10:01:00Z",
  }) as ConnectionStatus;

  it("shows the list's facts, unless a status answer (its own or the open detail's) came later", () => {
    // Given the list answered at t=100
    // Then without a status answer, or with an older one, the list's item is shown
    expect(rowFacts(listed, 100, undefined, 0)).toEqual(listed);
    expect(rowFacts(listed, 100, live, 99)).toEqual(listed);
    // And a newer status answer wins, with its last error and check
    expect(rowFacts(listed, 100, live, 101)).toEqual({ status: "error", last_error: live.last_error, last_checked_at: "2026-11-29T10:01:00Z" });
  });

  it.each(["connecting", "disconnecting"] as const)("polls its status while %s, once painted", (status) => {
    expect(rowPolls({ ...listed, status }, true)).toBe(true);
    expect(rowPolls({ ...listed, status }, false)).toBe(false);
  });

  it.each(["validated", "connected", "disconnected", "error", "reauth_required"] as const)("never polls when %s", (status) => {
    expect(rowPolls({ ...listed, status }, true)).toBe(false);
  });
});
