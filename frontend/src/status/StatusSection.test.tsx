import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { keys } from "../api/queries";
import type { ConnectionStatus } from "../api/types";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { StatusSection } from "./StatusSection";
import type { LiveStatus } from "./useLiveStatus";

const before = statusBody("connected") as unknown as ConnectionStatus;

describe("Check now", () => {
  it("asks the API to check Evolution and Meta now, and shows the answer at once", async () => {
    // Given a connected number never checked, and the list in the cache
    const checked = statusBody("error", {
      last_checked_at: "2026-11-29T10:00:00Z",
      last_error: { code: "evolution_not_open", message: "The gateway's session is closed.", fix: "Connect again." },
    });
    const { calls } = scriptedFetch(() => json(200, checked));
    const { queryClient } = renderWithPage(<StatusSection id={INTEGRATION.id} status={before} />);
    queryClient.setQueryData(keys.list, { pages: [], pageParams: [] });
    // When "Check now" is clicked
    await userEvent.setup().click(screen.getByRole("button", { name: "Check now" }));
    // Then one POST to status/refresh goes out, its answer becomes the live status, and the list is asked again
    await vi.waitFor(() => expect(queryClient.getQueryData<LiveStatus>(keys.status(INTEGRATION.id))?.tagged.body.status).toBe("error"));
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([`POST /integrations/whatsapp/${INTEGRATION.id}/status/refresh`]);
    expect(queryClient.getQueryState(keys.list)?.isInvalidated).toBe(true);
  });

  it("explains the wait when the checks are limited", async () => {
    scriptedFetch(() => json(429, { type: "x", title: "Too many", status: 429, detail: "Slow down.", code: "rate_limited" }, { "retry-after": "7" }));
    renderWithPage(<StatusSection id={INTEGRATION.id} status={before} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Check now" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Too many checks for now, nothing was saved, retry in 7 s.");
    expect(within(alert).getByRole("button", { name: "Retry" })).toBeDisabled();
  });
});
