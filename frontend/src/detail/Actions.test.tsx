import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { keys } from "../api/queries";
import type { LiveStatus } from "../status/useLiveStatus";
import { INTEGRATION, json, renderWithPage, scriptedFetch, statusBody } from "../test/render";
import { Actions } from "./Actions";

describe("the action buttons", () => {
  it("are disabled with the reason while connecting", () => {
    // Given an integration being connected
    scriptedFetch(() => json(200, {}));
    renderWithPage(<Actions integration={INTEGRATION} status="connecting" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    // Then Connect is disabled and says why; Disconnect and Delete stay possible
    const connect = screen.getByRole("button", { name: "Connect" });
    expect(connect).toBeDisabled();
    expect(connect).toHaveAccessibleDescription("Connect is unavailable: the number is being connected.");
    expect(screen.getByRole("button", { name: "Disconnect" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Delete" })).toBeEnabled();
  });

  it("explain that connecting needs the app ID and secret", () => {
    renderWithPage(<Actions integration={{ ...INTEGRATION, has_app_secret: false }} status="validated" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    expect(screen.getByRole("button", { name: "Connect" })).toHaveAccessibleDescription(/needs the App ID and App secret/);
    expect(screen.getByRole("button", { name: "Disconnect" })).toHaveAccessibleDescription(/not connected/);
  });

  it("ask before deleting, and delete only when confirmed", async () => {
    // Given a connected integration
    const { calls } = scriptedFetch(() => json(202, statusBody("disconnecting")));
    renderWithPage(<Actions integration={INTEGRATION} status="connected" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    const user = userEvent.setup();
    // When Delete is clicked, Then a question appears with the focus on Cancel, and nothing is sent
    await user.click(screen.getByRole("button", { name: "Delete" }));
    expect(screen.getByRole("group", { name: /Delete “Main number”\?/ })).toBeInTheDocument();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Cancel" }));
    expect(calls).toHaveLength(0);
    // When it is confirmed, Then one DELETE goes out
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]).toMatchObject({ method: "DELETE", path: `/integrations/whatsapp/${INTEGRATION.id}` });
  });

  it("render a 409 from the API from its problem, with the fix link", async () => {
    // Given the API refuses to connect without the app secret
    scriptedFetch(() =>
      json(409, { type: "x", title: "Invalid state", status: 409, detail: "Connecting needs the app ID and app secret.", code: "app_secret_required", errors: [] }),
    );
    renderWithPage(<Actions integration={INTEGRATION} status="validated" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    // When Connect is clicked, Then the problem's detail and its troubleshooting link are shown
    await userEvent.setup().click(screen.getByRole("button", { name: "Connect" }));
    expect(await screen.findByText("Connecting needs the app ID and app secret.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "app_secret_required" })).toHaveAttribute("href", "/docs/troubleshooting.md#app_secret_required");
  });

  it("say a read-only login may not change anything (API Gateway's plain 403)", async () => {
    scriptedFetch(() => json(403, { message: "Forbidden" }));
    renderWithPage(<Actions integration={INTEGRATION} status="validated" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Connect" }));
    expect(await screen.findByText(/read-only/)).toBeInTheDocument();
  });

  it("keep the webhook facts the 202 answer of disconnect leaves empty, until the next poll", async () => {
    // Given a connected number whose status (with its webhooks and history) is known
    const seen = {
      meta_callback_url: "https://api.example.com/webhooks/meta/x",
      last_meta_event_at: "2026-11-29T10:00:00Z",
      last_evolution_event_at: "2026-11-29T10:00:01Z",
    };
    const history = [{ from_status: "connecting", to_status: "connected", reason: "provisioned", error: null, correlation_id: null, occurred_at: "2026-11-29T09:00:00Z" }];
    scriptedFetch(() => json(202, statusBody("disconnecting")));
    const { queryClient } = renderWithPage(<Actions integration={INTEGRATION} status="connected" onEdit={vi.fn()} onDeleted={vi.fn()} />);
    queryClient.setQueryData(keys.status(INTEGRATION.id), { tagged: { body: statusBody("connected", { webhooks: seen, history }), etag: null }, unchangedPolls: 0 });
    // When it is disconnected (the 202 answer has null webhook fields and no history)
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Disconnect" }));
    await user.click(screen.getByRole("button", { name: "Yes, disconnect" }));
    // Then the cached status is the answer's, with the webhook facts and the history kept
    await waitFor(() => expect(queryClient.getQueryData<LiveStatus>(keys.status(INTEGRATION.id))?.tagged.body.status).toBe("disconnecting"));
    const body = queryClient.getQueryData<LiveStatus>(keys.status(INTEGRATION.id))!.tagged.body;
    expect(body.webhooks).toEqual(seen);
    expect(body.history).toEqual(history);
  });
});
