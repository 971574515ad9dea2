import { act, screen } from "@testing-library/react";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { FAST_POLL_MS, SLOW_POLL_MS, SLOWEST_POLL_MS, UNCHANGED_BEFORE_SLOWEST } from "./polling";
import { keys } from "../api/queries";
import { useLiveStatus, type LiveStatus } from "./useLiveStatus";

function Probe() {
  const live = useLiveStatus(INTEGRATION.id);
  return <p data-testid="status">{live.data?.tagged.body.status ?? "none"}</p>;
}

/** Moves the clock, then lets answered fetches settle: their bodies are read in later microtasks, and TanStack
 * Query tells observers through a setTimeout(0) of its own. */
async function advance(ms: number) {
  await act(() => vi.advanceTimersByTimeAsync(ms));
  for (let tick = 0; tick < 5; tick += 1) await act(() => vi.advanceTimersByTimeAsync(0));
}

describe("useLiveStatus", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: false }));
  afterEach(() => vi.useRealTimers());

  it("polls every second while connecting, then backs off to 15 s and 30 s with conditional requests", async () => {
    // Given an integration that is connecting for its first three answers, then connected and unchanged (304)
    let answers = 0;
    const { calls } = scriptedFetch((call) => {
      answers += 1;
      if (answers <= 3) return json(200, statusBody("connecting"), { etag: 'W/"a"' });
      if (answers === 4) return json(200, statusBody("connected"), { etag: 'W/"b"' });
      expect(call.headers["if-none-match"]).toBe('W/"b"');
      return json(304, null, { etag: 'W/"b"' });
    });
    const { queryClient } = renderWithPage(<Probe />);
    await advance(0);
    expect(screen.getByTestId("status")).toHaveTextContent("connecting");
    // When time passes while connecting, Then it asks about every second, with If-None-Match after the first answer
    await advance(FAST_POLL_MS);
    await advance(FAST_POLL_MS);
    expect(calls).toHaveLength(3);
    expect(calls[1]?.headers["if-none-match"]).toBe('W/"a"');
    await advance(FAST_POLL_MS);
    expect(calls).toHaveLength(4);
    expect(queryClient.getQueryData<LiveStatus>(keys.status(INTEGRATION.id))?.tagged.body.status).toBe("connected");
    // Then once connected it waits 15 s, not 1 s
    await advance(SLOW_POLL_MS - 100);
    expect(calls).toHaveLength(4);
    await advance(100);
    expect(calls).toHaveLength(5);
    // And after UNCHANGED_BEFORE_SLOWEST answers of 304 in a row, 30 s
    for (let index = 1; index < UNCHANGED_BEFORE_SLOWEST; index += 1) await advance(SLOW_POLL_MS);
    expect(calls).toHaveLength(4 + UNCHANGED_BEFORE_SLOWEST);
    await advance(SLOW_POLL_MS);
    expect(calls).toHaveLength(4 + UNCHANGED_BEFORE_SLOWEST);
    await advance(SLOWEST_POLL_MS - SLOW_POLL_MS);
    expect(calls).toHaveLength(5 + UNCHANGED_BEFORE_SLOWEST);
    expect(queryClient.getQueryData<LiveStatus>(keys.status(INTEGRATION.id))?.unchangedPolls).toBe(UNCHANGED_BEFORE_SLOWEST + 1);
  });

  it("pauses while the tab is hidden", async () => {
    // Given an integration that stays connecting
    const { calls } = scriptedFetch(() => json(200, statusBody("connecting"), { etag: 'W/"a"' }));
    renderWithPage(<Probe />);
    await advance(0);
    expect(calls).toHaveLength(1);
    // When the tab is hidden, Then no more requests go out however long it stays hidden
    const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    await act(async () => document.dispatchEvent(new Event("visibilitychange")));
    await advance(10 * FAST_POLL_MS);
    expect(calls).toHaveLength(1);
    // When it is shown again, Then polling resumes
    visibility.mockReturnValue("visible");
    await act(async () => document.dispatchEvent(new Event("visibilitychange")));
    await advance(2 * FAST_POLL_MS);
    expect(calls.length).toBeGreaterThan(1);
  });
});
