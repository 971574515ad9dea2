import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { keys } from "../api/queries";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody, type Call } from "../test/render";
import { MESSAGE_POLL_MS, MESSAGE_WATCH_MS } from "./testMessage";
import { testMessagePanel } from "./TestMessagePanel";

const TestMessage = testMessagePanel.Component;
const connected = { ...INTEGRATION, status: "connected" as const };
const STATUS_URL = `/integrations/whatsapp/${INTEGRATION.id}/messages/wamid.abc%3D%3D`;
const ACCEPTED = { wamid: "wamid.abc==", to_masked: "55*******0000", status_url: STATUS_URL };

function messageBody(status: string, history: string[], extra: Record<string, unknown> = {}) {
  return {
    wamid: "wamid.abc==",
    status,
    progress: status === "FAILED" ? "PENDING" : status,
    failed: status === "FAILED",
    failed_at: null,
    recipient: "5511999990000",
    sent_at: "2026-11-29T10:00:00Z",
    updated_at: "2026-11-29T10:00:00Z",
    failure: null,
    pricing: null,
    history: history.map((step, index) => ({ status: step, received_at: `2026-11-29T10:00:0${index}Z` })),
    ...extra,
  };
}

function refusal(status: number, code: string, items: Record<string, unknown>[], headers: Record<string, string> = {}) {
  return json(status, { type: "x", title: "Refused", status, detail: `${code}: details.`, code, errors: items }, headers);
}

const metaItem = (field: string, code: string, message: string, fix: string, meta_code: number) => ({
  field, code, message, fix, meta_code, fbtrace_id: "Xy",
});

/** Moves the clock, then lets answered fetches settle. */
async function advance(ms: number) {
  await act(() => vi.advanceTimersByTimeAsync(ms));
  for (let tick = 0; tick < 10; tick += 1) await act(() => vi.advanceTimersByTimeAsync(0));
}

async function sendTo(recipient: string, user = userEvent.setup()) {
  await user.type(screen.getByLabelText("Recipient"), recipient);
  await user.click(screen.getByRole("button", { name: "Send test message" }));
}

describe("the test message panel", () => {
  it("asks to connect first", () => {
    renderWithPage(<TestMessage integration={INTEGRATION} status={statusBody("validated") as never} />);
    expect(screen.getByText("Connect the number to send a test message.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Send test message" })).not.toBeInTheDocument();
  });

  it("shows Meta's refusal of the recipient at the recipient field, with the fix, and focuses it", async () => {
    // Given Meta refuses the recipient (131030, the item's field is `to`)
    scriptedFetch(() =>
      refusal(422, "test_message_rejected", [
        metaItem("to", "recipient_not_allowed", "The recipient is not in the allowed list.", "Add it in API setup.", 131030),
      ]),
    );
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    // When the template is sent to it
    await sendTo("15550131030");
    // Then the recipient field is invalid, described by the message, the fix and Meta's code, and focused
    const recipient = screen.getByLabelText("Recipient");
    await waitFor(() =>
      expect(recipient).toHaveAccessibleDescription(/not in the allowed list\..*Fix: Add it in API setup\..*recipient_not_allowed · Meta code 131030 · fbtrace_id Xy/),
    );
    expect(recipient).toHaveAttribute("aria-invalid", "true");
    expect(recipient).toHaveFocus();
    // And the alert says what happened without listing the item a second time
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("test_message_rejected: details.");
    expect(within(alert).queryByText(/allowed list/)).not.toBeInTheDocument();
  });

  it("shows a refused template, and a malformed request's items, at their own fields", async () => {
    // Given Meta refuses the template (field `template`), and then the API refuses a malformed language
    let sends = 0;
    scriptedFetch(() => {
      sends += 1;
      return sends === 1
        ? refusal(422, "test_message_rejected", [metaItem("template", "meta_error", "Meta answered with error code 132001.", "Check the template.", 132001)])
        : refusal(400, "invalid_request", [{ field: "template.language", code: "string_pattern_mismatch", message: "Unknown language." }]);
    });
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    const user = userEvent.setup();
    // When a template Meta does not know is sent
    await user.clear(screen.getByLabelText("Template name"));
    await user.type(screen.getByLabelText("Template name"), "spring_sale");
    await sendTo("5511999990000", user);
    // Then Meta's refusal is at the template name
    await waitFor(() => expect(screen.getByLabelText("Template name")).toHaveAccessibleDescription(/132001.*Fix: Check the template\./));
    expect(screen.getByLabelText("Template name")).toHaveFocus();
    // When the API refuses the language, Then that item is at the language field, and the name is clear again
    await user.click(screen.getByRole("button", { name: "Send test message" }));
    await waitFor(() => expect(screen.getByLabelText("Template language")).toHaveAccessibleDescription(/Unknown language\./));
    expect(screen.getByLabelText("Template name")).not.toHaveAttribute("aria-invalid");
  });

  it("lists a refused token in the alert, and asks for the status again (it now needs a new token)", async () => {
    // Given Meta refuses the token on send
    const { calls } = scriptedFetch(() =>
      refusal(422, "test_message_rejected", [metaItem("access_token", "token_expired", "The access token has expired.", "Generate a new token.", 190)]),
    );
    const { queryClient } = renderWithPage(<TestMessage integration={connected} status={undefined} />);
    queryClient.setQueryData(keys.status(INTEGRATION.id), { tagged: { body: statusBody("connected"), etag: null }, unchangedPolls: 0 });
    // When a message is sent
    await sendTo("5511999990000");
    // Then the token's item is in the alert with its fix, and the cached status is marked stale
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(/The access token has expired\..*Fix: Generate a new token\..*token_expired · Meta code 190/);
    expect(queryClient.getQueryState(keys.status(INTEGRATION.id))?.isInvalidated).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("checks the recipient and the template before sending anything, and sends the digits only", async () => {
    // Given an API that accepts anything
    const { calls } = scriptedFetch((call) => (call.method === "POST" ? json(202, ACCEPTED) : json(200, messageBody("SENT", ["SENT"]))));
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    const user = userEvent.setup();
    // When the recipient is too short and the template name has capitals
    await user.clear(screen.getByLabelText("Template name"));
    await user.type(screen.getByLabelText("Template name"), "Hello World");
    await sendTo("1234", user);
    // Then each field says what is wrong, and nothing is sent
    expect(screen.getByLabelText("Recipient")).toHaveAccessibleDescription(/8 to 15 digits/);
    expect(screen.getByLabelText("Template name")).toHaveAccessibleDescription(/only lower-case letters/);
    expect(screen.getByLabelText("Recipient")).toHaveFocus();
    expect(calls).toHaveLength(0);
    // When both are corrected, with the recipient written as people write it
    await user.clear(screen.getByLabelText("Recipient"));
    await user.clear(screen.getByLabelText("Template name"));
    await user.type(screen.getByLabelText("Template name"), "hello_world");
    await sendTo("+55 11 99999-0000", user);
    // Then the body holds the digits only and the template
    await waitFor(() => expect(calls[0]?.body).toEqual({ to: "5511999990000", template: { name: "hello_world", language: "en_US" } }));
    expect(await screen.findByText("Status: sent.")).toBeInTheDocument();
  });

  it("says when to retry after the hourly limit, in minutes", async () => {
    scriptedFetch(() => refusal(429, "rate_limited", [], { "retry-after": "3000" }));
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    await sendTo("5511999990000");
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Test messages are limited per number per hour; nothing was sent. Try again in 50 min.",
    );
  });

  it("sends a text when asked to", async () => {
    const { calls } = scriptedFetch((call) => (call.method === "POST" ? json(202, ACCEPTED) : json(200, messageBody("SENT", ["SENT"]))));
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("radio", { name: "Text" }));
    await user.type(screen.getByRole("textbox", { name: "Text" }), "Hello from the test");
    await sendTo("5511999990000", user);
    await waitFor(() => expect(calls[0]?.body).toEqual({ to: "5511999990000", text: "Hello from the test" }));
  });
});

describe("a sent test message", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  const messageCalls = (calls: Call[]) => calls.filter((call) => call.method === "GET");

  it("shows each status as it arrives, and stops asking once delivered", async () => {
    // Given a message that is pending, then sent, then delivered
    const answers = [messageBody("PENDING", []), messageBody("SENT", ["SENT"]), messageBody("DELIVERED", ["SENT", "DELIVERED"])];
    const { calls } = scriptedFetch((call) =>
      call.method === "POST" ? json(202, ACCEPTED) : json(200, answers[Math.min(messageCalls(calls).length - 1, 2)]),
    );
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    // When it is sent
    await sendTo("5511999990000", userEvent.setup({ advanceTimers: vi.advanceTimersByTime }));
    // Then the masked recipient and each status are shown in turn, in words, at the status URL as given
    expect(await screen.findByRole("heading", { name: "Sent to 55*******0000" })).toBeInTheDocument();
    await advance(0);
    expect(screen.getByText("Status: waiting.")).toBeInTheDocument();
    await advance(MESSAGE_POLL_MS);
    expect(screen.getByText("Status: sent.")).toBeInTheDocument();
    await advance(MESSAGE_POLL_MS);
    const status = screen.getByText("Status: delivered.").closest("p")!;
    expect(status).toHaveAttribute("data-message-status", "DELIVERED");
    expect(status).toHaveTextContent("It reached the recipient's phone: the number works.");
    const history = screen.getByRole("list", { name: "Statuses received" });
    expect(within(history).getAllByRole("listitem").map((step) => step.textContent)).toEqual([
      expect.stringMatching(/sent$/),
      expect.stringMatching(/delivered$/),
    ]);
    expect(messageCalls(calls).every((call) => call.path === STATUS_URL)).toBe(true);
    // And once delivered it asks no more
    await advance(10 * MESSAGE_POLL_MS);
    expect(messageCalls(calls)).toHaveLength(3);
  });

  it("shows a failure with its fix and its troubleshooting link", async () => {
    // Given a message that Meta failed later (131047, by webhook)
    scriptedFetch((call) =>
      call.method === "POST"
        ? json(202, ACCEPTED)
        : json(200, messageBody("FAILED", ["FAILED"], {
            failure: { code: "outside_customer_service_window", message: "More than 24 hours passed.", fix: "Send an approved template instead.", meta_code: 131047, title: "Re-engagement message", details: null },
          })),
    );
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    // When it is sent
    await sendTo("15550131047", userEvent.setup({ advanceTimers: vi.advanceTimersByTime }));
    // Then the failure says why, what to do, and where to read more
    expect(await screen.findByText("Status: failed.")).toBeInTheDocument();
    expect(screen.getByText("Re-engagement message: More than 24 hours passed.")).toBeInTheDocument();
    expect(screen.getByText(/Send an approved template instead\./)).toHaveTextContent("Fix: Send an approved template instead.");
    expect(screen.getByRole("link", { name: "Troubleshooting: outside_customer_service_window" })).toHaveAttribute(
      "href",
      "/docs/troubleshooting.md#outside_customer_service_window",
    );
  });

  it("stops after a minute without a final status, and offers to look again", async () => {
    // Given a message that stays at SENT
    const { calls } = scriptedFetch((call) => (call.method === "POST" ? json(202, ACCEPTED) : json(200, messageBody("SENT", ["SENT"]))));
    renderWithPage(<TestMessage integration={connected} status={undefined} />);
    await sendTo("5511999990000", userEvent.setup({ advanceTimers: vi.advanceTimersByTime }));
    expect(await screen.findByText("Status: sent.")).toBeInTheDocument();
    // When a minute passes
    await advance(MESSAGE_WATCH_MS + MESSAGE_POLL_MS);
    const asked = messageCalls(calls).length;
    expect(asked).toBeGreaterThanOrEqual(MESSAGE_WATCH_MS / MESSAGE_POLL_MS - 1);
    // Then it says so and asks no more
    expect(screen.getByText(/No delivery report within a minute\./)).toBeInTheDocument();
    await advance(5 * MESSAGE_POLL_MS);
    expect(messageCalls(calls)).toHaveLength(asked);
    // When "Check again" is clicked, Then it asks again
    await userEvent.setup({ advanceTimers: vi.advanceTimersByTime }).click(screen.getByRole("button", { name: "Check again" }));
    await advance(0);
    expect(messageCalls(calls).length).toBeGreaterThan(asked);
    expect(screen.queryByText(/No delivery report within a minute\./)).not.toBeInTheDocument();
  });
});
