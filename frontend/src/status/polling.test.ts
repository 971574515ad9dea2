import { FAST_POLL_MS, pollDelayMs, SLOW_POLL_MS, SLOWEST_POLL_MS, UNCHANGED_BEFORE_SLOWEST } from "./polling";

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
