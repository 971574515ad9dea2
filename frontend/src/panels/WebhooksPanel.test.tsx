import { screen, within } from "@testing-library/react";
import type { ConnectionStatus } from "../api/types";
import { INTEGRATION, renderWithPage, statusBody } from "../test/render";
import { STALE_AFTER_MS, webhookHints } from "./webhookHints";
import { webhooksPanel } from "./WebhooksPanel";

const Webhooks = webhooksPanel.Component;
const NOW = Date.parse("2026-11-29T12:00:00Z");
const OURS = `https://api.example.com/webhooks/meta/${INTEGRATION.id}`;
const recent = new Date(NOW - 60_000).toISOString();
const old = new Date(NOW - STALE_AFTER_MS - 60_000).toISOString();

function status(state: string, webhooks: Partial<ConnectionStatus["webhooks"]>, extra: Record<string, unknown> = {}) {
  const body = statusBody(state, extra) as unknown as ConnectionStatus;
  return { ...body, webhooks: { ...body.webhooks, ...webhooks } };
}

const keysOf = (value: ConnectionStatus) => webhookHints(value, NOW).map((hint) => hint.key);

describe("the webhook hints", () => {
  it("say nothing when Meta delivers to us and both sides were heard from lately", () => {
    expect(keysOf(status("connected", { meta_callback_url: OURS, last_meta_event_at: recent, last_evolution_event_at: recent }))).toEqual([]);
  });

  it("say when a side was never heard from, or not for more than a day", () => {
    expect(keysOf(status("connected", { meta_callback_url: OURS }))).toEqual(["webhooks.hint.meta_never", "webhooks.hint.evolution_never"]);
    expect(keysOf(status("connected", { meta_callback_url: OURS, last_meta_event_at: old, last_evolution_event_at: old }))).toEqual([
      "webhooks.hint.meta_stale",
      "webhooks.hint.evolution_stale",
    ]);
  });

  it("say what wires the webhooks when they are not wired, depending on the status", () => {
    expect(keysOf(status("validated", {}))).toEqual(["webhooks.hint.not_wired"]);
    expect(keysOf(status("connecting", {}))).toEqual(["webhooks.hint.not_wired_connecting"]);
    expect(keysOf(status("connected", { last_evolution_event_at: recent }))).toEqual(["webhooks.hint.not_wired_connected"]);
  });

  it("expect nothing from the gateway while not connected", () => {
    expect(keysOf(status("disconnected", { last_meta_event_at: old, last_evolution_event_at: old }))).toEqual(["webhooks.hint.not_wired"]);
  });

  it("say when another platform took the number's webhooks", () => {
    const taken = status("connected", { meta_callback_url: OURS, last_meta_event_at: recent, last_evolution_event_at: recent }, {
      last_error: { code: "webhook_override_taken", message: "Another platform.", fix: "Remove it." },
    });
    expect(webhookHints(taken, NOW)).toEqual([
      { key: "webhooks.hint.elsewhere", link: { code: "webhook_override_taken" }, linkLabel: "webhooks.link.override" },
    ]);
  });
});

describe("the Webhooks panel", () => {
  beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ["Date"] }));
  afterEach(() => vi.useRealTimers());

  it("shows our URL and when each side's webhooks last arrived, without hints when all is well", () => {
    // Given a connected number wired to this service, heard from a minute ago
    renderWithPage(<Webhooks integration={INTEGRATION} status={status("connected", { meta_callback_url: OURS, last_meta_event_at: recent, last_evolution_event_at: recent })} />);
    // Then the panel names where Meta delivers, with the URL, and both times
    const panel = screen.getByRole("region", { name: "Webhooks" });
    expect(within(panel).getByText("Where Meta delivers").nextElementSibling).toHaveTextContent(`To this service: ${OURS}`);
    expect(panel.querySelectorAll(`time[datetime="${recent}"]`)).toHaveLength(2);
    expect(within(panel).queryByRole("list", { name: "What this means" })).not.toBeInTheDocument();
  });

  it("says plainly when the webhooks are not wired although the number is connected, and links the fix", () => {
    renderWithPage(<Webhooks integration={INTEGRATION} status={status("connected", { last_evolution_event_at: recent })} />);
    expect(screen.getByText("Where Meta delivers").nextElementSibling).toHaveTextContent("Not wired to this service");
    const hints = screen.getByRole("list", { name: "What this means" });
    expect(hints).toHaveTextContent(/No message or delivery report reaches this service\. Run the diagnostics and click Repair/);
    expect(within(hints).getByRole("link", { name: "Troubleshooting: Meta's webhook for this number" })).toHaveAttribute(
      "href",
      "/docs/troubleshooting.md#check-waba-webhook_override",
    );
  });

  it("says never, and how to prove the path, before any webhook arrived", () => {
    renderWithPage(<Webhooks integration={INTEGRATION} status={status("connected", { meta_callback_url: OURS })} />);
    expect(screen.getByText("Last webhook from Meta").nextElementSibling).toHaveTextContent("never");
    expect(screen.getByRole("list", { name: "What this means" })).toHaveTextContent(/Nothing from Meta yet\. Send a test message/);
  });

  it("is not shown before the status is known", () => {
    const { container } = renderWithPage(<Webhooks integration={INTEGRATION} status={undefined} />);
    expect(container).toBeEmptyDOMElement();
  });
});
