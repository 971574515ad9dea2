import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { keys } from "../api/queries";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { diagnosticsPanel } from "./DiagnosticsPanel";

const Diagnostics = diagnosticsPanel.Component;
const connected = { ...INTEGRATION, status: "connected" as const };
const PATH = `/integrations/whatsapp/${INTEGRATION.id}/diagnostics`;

function check(id: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    group: id.split(".")[0],
    status,
    title: `Title of ${id}`,
    detail: `Detail of ${id}.`,
    fix: status === "ok" ? null : `Fix of ${id}.`,
    link: `docs/troubleshooting.md#check-${id.replace(".", "-")}`,
    repairable: false,
    repaired: null,
    ...extra,
  };
}

function report(summary: string, items: ReturnType<typeof check>[]) {
  return { integration_id: INTEGRATION.id, checked_at: "2026-11-29T10:00:00Z", summary, items };
}

const BROKEN = report("fail", [
  check("token.valid", "ok"),
  check("waba.app_subscribed", "ok"),
  check("evolution.webhook", "fail", { repairable: true }),
  check("traffic.recent_failures", "warn"),
]);
const REPAIRED = report("warn", [
  check("token.valid", "ok"),
  check("waba.app_subscribed", "ok"),
  check("evolution.webhook", "ok", { fix: null, repaired: "The webhook configuration was set again." }),
  check("traffic.recent_failures", "warn"),
]);

const itemOf = (id: string) => document.querySelector(`[data-check="${id}"]`) as HTMLElement;

describe("the diagnostics panel", () => {
  it("shows the checklist by group, with words beside the icons, the fixes, and links into the docs", async () => {
    // Given a report with passing checks, a repairable failure and a warning
    scriptedFetch(() => json(200, BROKEN));
    renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    // When diagnostics run
    await userEvent.setup().click(screen.getByRole("button", { name: "Run diagnostics" }));
    // Then the summary counts each result, in words
    expect(await screen.findByText(/Result: Failed/)).toHaveTextContent("1 failed, 1 with a warning, 2 OK");
    // And each group has its heading, each item its result in words
    for (const group of ["Access token", "WhatsApp Business Account", "WhatsApp gateway", "Messages"]) {
      expect(screen.getByRole("heading", { name: group })).toBeInTheDocument();
    }
    expect(itemOf("token.valid")).toHaveTextContent("OK: Title of token.valid");
    expect(itemOf("evolution.webhook")).toHaveTextContent(/^✗ Failed: Title of evolution.webhook Detail of evolution.webhook\.\s*Fix: Fix of evolution.webhook\. Repair can fix this\./);
    expect(itemOf("traffic.recent_failures")).toHaveTextContent("Warning: Title of traffic.recent_failures");
    expect(itemOf("traffic.recent_failures")).not.toHaveTextContent("Repair can fix this.");
    // And each check that did not pass links its section of the docs, resolved against the docs base URL
    expect(screen.getByRole("link", { name: "Troubleshooting: Title of evolution.webhook" })).toHaveAttribute(
      "href",
      "/docs/troubleshooting.md#check-evolution-webhook",
    );
    expect(screen.getByRole("link", { name: "Troubleshooting: Title of traffic.recent_failures" })).toHaveAttribute(
      "href",
      "/docs/troubleshooting.md#check-traffic-recent_failures",
    );
    expect(within(itemOf("token.valid")).queryByRole("link")).not.toBeInTheDocument();
    // And Repair is offered, saying how many checks it would repair
    expect(screen.getByRole("button", { name: "Repair" })).toHaveAccessibleDescription(/checks to repair: 1/);
  });

  it("repairs, then shows what each repaired check says was done, and refreshes the status", async () => {
    // Given a report with a repairable failure, and a cached status of the integration
    const { calls } = scriptedFetch((call) => json(200, call.method === "GET" ? BROKEN : REPAIRED));
    const { queryClient } = renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    queryClient.setQueryData(keys.status(INTEGRATION.id), { tagged: { body: statusBody("connected"), etag: null }, unchangedPolls: 0 });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Run diagnostics" }));
    // When Repair is clicked
    await user.click(await screen.findByRole("button", { name: "Repair" }));
    // Then the result says how many checks were repaired, and the check says what was done and is OK now
    expect(await screen.findByText("Repair done. Checks repaired: 1; each says what was done.")).toBeInTheDocument();
    expect(itemOf("evolution.webhook")).toHaveAttribute("data-status", "ok");
    expect(within(itemOf("evolution.webhook")).getByText("Repaired: The webhook configuration was set again.")).toBeInTheDocument();
    // And nothing is left to repair, the remaining warning keeps its fix
    expect(screen.queryByRole("button", { name: "Repair" })).not.toBeInTheDocument();
    expect(itemOf("traffic.recent_failures")).toHaveTextContent("Fix: Fix of traffic.recent_failures.");
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([`GET ${PATH}`, `POST ${PATH}/repair`]);
    expect(queryClient.getQueryState(keys.status(INTEGRATION.id))?.isInvalidated).toBe(true);
  });

  it("says when a repair had nothing to do on our side", async () => {
    scriptedFetch((call) => json(200, call.method === "GET" ? BROKEN : report("fail", BROKEN.items)));
    renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Run diagnostics" }));
    await user.click(await screen.findByRole("button", { name: "Repair" }));
    expect(await screen.findByText(/Nothing needed repairing on our side/)).toBeInTheDocument();
  });

  it("says when to retry after too many checks", async () => {
    // Given the API limits the checks that reach Meta
    scriptedFetch(() => json(429, { type: "x", title: "Too many", status: 429, detail: "Slow down.", code: "rate_limited" }, { "retry-after": "20" }));
    renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    // When diagnostics run, Then the wait is explained and Retry waits for it
    await userEvent.setup().click(screen.getByRole("button", { name: "Run diagnostics" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Too many checks for now, nothing was saved, retry in 20 s.");
    expect(within(alert).getByRole("button", { name: "Retry" })).toBeDisabled();
  });

  it("hides itself when the API does not offer diagnostics", async () => {
    scriptedFetch(() => json(404, { message: "Not Found" }));
    const { container } = renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Run diagnostics" }));
    await waitFor(() => expect(container).toBeEmptyDOMElement());
  });
});
