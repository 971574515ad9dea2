import { act, screen, within } from "@testing-library/react";
import { keys } from "../api/queries";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { FAST_POLL_MS, SLOWEST_POLL_MS } from "../status/polling";
import { IntegrationList } from "./IntegrationList";

/** Moves the clock, then lets answered fetches settle (their bodies are read in later microtasks). */
async function advance(ms: number) {
  await act(() => vi.advanceTimersByTimeAsync(ms));
  for (let tick = 0; tick < 5; tick += 1) await act(() => vi.advanceTimersByTimeAsync(0));
}

const item = (index: number, extra: Record<string, unknown>) => ({
  ...INTEGRATION,
  id: `7f1c2a9e-0000-4000-8000-00000000000${index}`,
  name: `Number ${index}`,
  ...extra,
});

const CONNECTED = item(1, { status: "connected", last_checked_at: "2026-11-29T10:00:00Z" });
const FAILED = item(2, {
  status: "error",
  last_checked_at: "2026-11-29T10:05:00Z",
  last_error: { code: "permission_denied", message: "The token may not manage this account.", fix: "Assign it." },
});
const CONNECTING = item(3, { status: "connecting" });

const rowOf = (name: string) => screen.getByRole("button", { name }).closest("tr")!;
const statusCalls = (calls: { path: string }[]) => calls.filter((call) => call.path.includes("/status"));

describe("the list", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: false }));
  afterEach(() => vi.useRealTimers());

  it("takes each row's last error and last check from the list, and polls only a row that is connecting", async () => {
    // Given a connected number, one in error, and one being connected that becomes connected on its second poll
    let polls = 0;
    const { calls } = scriptedFetch((call) => {
      const connecting = polls < 2 ? CONNECTING : { ...CONNECTING, status: "connected", last_checked_at: "2026-11-29T10:09:00Z" };
      if (call.path.startsWith("/integrations/whatsapp?")) return json(200, { items: [CONNECTED, FAILED, connecting], next_cursor: null });
      polls += 1;
      return json(200, statusBody(polls < 2 ? "connecting" : "connected", { id: CONNECTING.id, last_checked_at: "2026-11-29T10:09:00Z" }), { etag: `W/"${polls}"` });
    });
    renderWithPage(<IntegrationList selectedId={null} onOpen={vi.fn()} />);
    await advance(0);
    await advance(50); // the rows are painted
    // Then the rows show the list's own facts: the error with its code, and when each was checked
    expect(within(rowOf("Number 2")).getByText("permission_denied: The token may not manage this account.")).toBeInTheDocument();
    expect(rowOf("Number 1").querySelector("time")).toHaveAttribute("datetime", "2026-11-29T10:00:00Z");
    // And only the connecting row asked for its status
    expect(statusCalls(calls).map((call) => call.path)).toEqual([`/integrations/whatsapp/${CONNECTING.id}/status?history=10`]);
    // When it becomes connected on its next poll
    await advance(FAST_POLL_MS);
    await advance(100); // its answer is read, the list is asked again
    expect(within(rowOf("Number 3")).getByText("connected")).toBeInTheDocument();
    expect(rowOf("Number 3").querySelector("time")).toHaveAttribute("datetime", "2026-11-29T10:09:00Z");
    // Then it stops polling: a minute later, still two status requests in all
    await advance(2 * SLOWEST_POLL_MS);
    expect(statusCalls(calls)).toHaveLength(2);
  });

  it("shows in the open row what its detail polls, without asking for it itself", async () => {
    // Given a list of a connected number, open in the detail
    const { calls } = scriptedFetch(() => json(200, { items: [CONNECTED, FAILED], next_cursor: null }));
    const { queryClient, announce } = renderWithPage(<IntegrationList selectedId={CONNECTED.id} onOpen={vi.fn()} />);
    await advance(0);
    await advance(50);
    // When the detail's poll brings a newer status (it failed)
    const failed = statusBody("error", { id: CONNECTED.id, last_error: FAILED.last_error, last_checked_at: "2026-11-29T10:10:00Z" });
    act(() => queryClient.setQueryData(keys.status(CONNECTED.id), { tagged: { body: failed, etag: null }, unchangedPolls: 0 }));
    await advance(0);
    // Then the open row shows it and announces it, and the list itself asked for no status
    expect(within(rowOf("Number 1")).getByText("error")).toBeInTheDocument();
    expect(within(rowOf("Number 1")).getByText(/^permission_denied: /)).toBeInTheDocument();
    expect(announce).toHaveBeenCalledWith("Number 1 is now error.");
    await advance(2 * SLOWEST_POLL_MS);
    expect(statusCalls(calls)).toHaveLength(0);
  });
});
