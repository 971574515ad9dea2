import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { diagnosticsPanel } from "./DiagnosticsPanel";
import { testMessagePanel } from "./TestMessagePanel";

const Diagnostics = diagnosticsPanel.Component;
const TestMessage = testMessagePanel.Component;
const connected = { ...INTEGRATION, status: "connected" as const };

const REPORT = {
  integration_id: INTEGRATION.id,
  checked_at: "2026-11-29T10:00:00Z",
  summary: "fail",
  items: [
    { id: "token.valid", group: "token", status: "ok", title: "Token is valid", detail: "System user.", fix: null, link: "docs/troubleshooting.md#check-token-valid", repairable: false, repaired: null },
    { id: "evolution.webhook", group: "evolution", status: "fail", title: "Webhook points elsewhere", detail: "Another URL.", fix: "Repair sets it back.", link: null, repairable: true, repaired: null },
  ],
};

describe("the diagnostics panel", () => {
  it("shows a checklist by group with words beside the icons, fixes, links, and repairs", async () => {
    // Given a report with a passing token check and a repairable gateway problem
    const { calls } = scriptedFetch((call) =>
      call.method === "GET" ? json(200, REPORT) : json(200, { ...REPORT, summary: "ok", items: [{ ...REPORT.items[1], status: "ok", repaired: "webhook URL set back" }] }),
    );
    renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    const user = userEvent.setup();
    // When diagnostics run
    await user.click(screen.getByRole("button", { name: "Run diagnostics" }));
    // Then each group has its heading and each item says its result in words
    expect(await screen.findByRole("heading", { name: "Access token" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "WhatsApp gateway" })).toBeInTheDocument();
    expect(screen.getByText("OK: Token is valid")).toBeInTheDocument();
    expect(screen.getByText("Failed: Webhook points elsewhere")).toBeInTheDocument();
    expect(screen.getByText(/Repair sets it back\./)).toHaveTextContent("Fix: Repair sets it back.");
    expect(screen.getByRole("link", { name: "Troubleshooting: Token is valid" })).toHaveAttribute("href", "/docs/troubleshooting.md#check-token-valid");
    // When Repair is clicked, Then the API's repair runs and says what it did
    await user.click(screen.getByRole("button", { name: "Repair" }));
    expect(await screen.findByText("Repaired: webhook URL set back")).toBeInTheDocument();
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      `GET /integrations/whatsapp/${INTEGRATION.id}/diagnostics`,
      `POST /integrations/whatsapp/${INTEGRATION.id}/diagnostics/repair`,
    ]);
  });

  it("hides itself when the API does not offer diagnostics", async () => {
    scriptedFetch(() => json(404, { message: "Not Found" }));
    const { container } = renderWithPage(<Diagnostics integration={connected} status={undefined} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Run diagnostics" }));
    await waitFor(() => expect(container).toBeEmptyDOMElement());
  });
});

describe("the test message panel", () => {
  it("asks to connect first", () => {
    renderWithPage(<TestMessage integration={INTEGRATION} status={statusBody("validated") as never} />);
    expect(screen.getByText("Connect the number to send a test message.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Send test message" })).not.toBeInTheDocument();
  });

  it("shows a refused recipient at the recipient field, with Meta's details", async () => {
    // Given Meta refuses the recipient
    scriptedFetch(() =>
      json(422, {
        type: "x", title: "Test message rejected", status: 422, detail: "Meta refused the test message.", code: "test_message_rejected",
        errors: [{ field: "to", code: "recipient_not_allowed", message: "This recipient is not allowed.", fix: "Add it to the allowed list.", meta_code: 131030, meta_subcode: null, fbtrace_id: "Xy" }],
      }),
    );
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Recipient"), "5511999990000");
    // When the template is sent
    await user.click(screen.getByRole("button", { name: "Send test message" }));
    // Then the item is at the recipient field
    await waitFor(() => expect(screen.getByLabelText("Recipient")).toHaveAccessibleDescription(/not allowed.*Add it to the allowed list.*recipient_not_allowed · Meta code 131030 · fbtrace_id Xy/));
  });

  it("sends the template, then follows the message's status until it is read", async () => {
    // Given the API accepts the message and reports its progress
    const statusUrl = `/integrations/whatsapp/${INTEGRATION.id}/messages/wamid.abc%3D%3D`;
    const { calls } = scriptedFetch((call) =>
      call.method === "POST"
        ? json(202, { wamid: "wamid.abc==", to_masked: "55119****0000", status_url: statusUrl })
        : json(200, { wamid: "wamid.abc==", status: "READ", progress: "READ", failed: false, failed_at: null, recipient: "5511999990000", sent_at: null, updated_at: null, failure: null, pricing: { category: "utility", billable: true, pricing_model: "PMP", type: "regular" }, history: [{ status: "SENT", received_at: "2026-11-29T10:00:00Z" }, { status: "READ", received_at: "2026-11-29T10:00:02Z" }] }),
    );
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Recipient"), "5511999990000");
    await user.click(screen.getByRole("button", { name: "Send test message" }));
    // Then the body is the template, and the status URL is polled as given
    const report = await screen.findByText("Status: READ");
    expect(within(report.parentElement!).getByText("Pricing category: utility")).toBeInTheDocument();
    expect(calls[0]?.body).toEqual({ to: "5511999990000", template: { name: "hello_world", language: "en_US" } });
    expect(calls[1]?.path).toBe(statusUrl);
  });
});
