import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { INTEGRATION, json, renderWithPage, scriptedFetch } from "../test/render";
import { IntegrationForm } from "./IntegrationForm";

const VALID = {
  Name: "Main number",
  "Phone number ID": "100000000000001",
  "WhatsApp Business Account ID": "200000000000001",
  "Access token": "EAADEMOVALIDTOKEN0000000000000000000000000000",
};

async function fill(values: Record<string, string>) {
  const user = userEvent.setup();
  for (const [label, value] of Object.entries(values)) {
    const input = screen.getByLabelText(label);
    await user.clear(input);
    if (value) await user.type(input, value);
  }
  return user;
}

const REJECTED = {
  type: "urn:whatsapp-integrations:problem:credentials_rejected",
  title: "Credentials rejected",
  status: 422,
  detail: "The credentials were refused: 2 problem(s) to fix.",
  code: "credentials_rejected",
  request_id: "req-1",
  errors: [
    {
      field: "access_token",
      code: "token_expired",
      message: "The access token has expired.",
      fix: "Generate a new system-user token.",
      meta_code: 190,
      meta_subcode: 463,
      fbtrace_id: "AbCdEf",
    },
    { field: "body.waba_id", code: "phone_number_not_in_waba", message: "The number is not in this account.", fix: "Copy both IDs from the same account." },
  ],
};

const VALIDATED = {
  valid: true,
  phone_profile: { display_phone_number: "+1 555-010-0001", verified_name: "Demo Shop 1", quality_rating: "GREEN", messaging_limit: "TIER_1K" },
  token_facts: { type: "SYSTEM_USER", app_id: null, expires_at: null, scopes: [] },
  warnings: [{ code: "token_expires", message: "The token expires.", fix: "Use a token that never expires." }],
};

describe("the create form", () => {
  it("shows every problem item at its field with the fix and Meta's code, subcode and fbtrace_id", async () => {
    // Given the API refuses the credentials with two items
    scriptedFetch(() => json(422, REJECTED));
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />);
    const user = await fill(VALID);
    // When the tenant clicks Check
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    // Then the token item is at the token field, described by it, with Meta's details in one line
    const token = screen.getByLabelText("Access token");
    await waitFor(() => expect(token).toHaveAttribute("aria-invalid", "true"));
    expect(token).toHaveAccessibleDescription(/The access token has expired\..*Generate a new system-user token\..*token_expired · Meta code 190 · subcode 463 · fbtrace_id AbCdEf/);
    // And the item named body.waba_id is at the WABA field; the summary names the request
    expect(screen.getByLabelText("WhatsApp Business Account ID")).toHaveAccessibleDescription(/not in this account.*Copy both IDs/);
    expect(screen.getByRole("alert")).toHaveTextContent("The credentials were refused: 2 problem(s) to fix.");
    expect(screen.getByRole("alert")).toHaveTextContent("req-1");
    // And the token field gets the focus, being the first field in error
    expect(document.activeElement).toBe(screen.getByLabelText("WhatsApp Business Account ID"));
    expect(document.body.textContent).not.toContain("[object Object]");
  });

  it("checks the formats the API checks before sending anything", async () => {
    // Given a phone number where the ID goes, a short token and a secret without its app ID
    const { calls } = scriptedFetch(() => json(200, VALIDATED));
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />);
    const user = await fill({ ...VALID, "Phone number ID": "+55 11 99999-0000", "Access token": "EAAshort", "App secret": "0123456789abcdef0123456789abcdef" });
    // When Check is clicked
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    // Then each field explains its problem, and nothing was sent
    expect(screen.getByLabelText("Phone number ID")).toHaveAccessibleDescription(/looks like a phone number/);
    expect(screen.getByLabelText("Access token")).toHaveAccessibleDescription(/too short/);
    expect(screen.getByLabelText("App ID")).toHaveAccessibleDescription(/without its app ID/);
    expect(calls).toHaveLength(0);
  });

  it("says Meta is unreachable and when to retry, from Retry-After", async () => {
    // Given Meta is unavailable
    scriptedFetch(() =>
      json(503, { type: "x", title: "Meta unavailable", status: 503, detail: "Meta is unavailable.", code: "meta_unavailable", errors: [] }, { "retry-after": "7" }),
    );
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />);
    const user = await fill(VALID);
    // When Check is clicked, Then the message says nothing was saved and when to retry
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    expect(await screen.findByText("Meta is unreachable, nothing was saved, retry in 7 s.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeDisabled();
  });

  it("offers a retry after a network failure", async () => {
    // Given the network is down for the first try
    let online = false;
    const { calls } = scriptedFetch(() => (online ? json(200, VALIDATED) : undefined));
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />);
    const user = await fill(VALID);
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    expect(await screen.findByText(/The API could not be reached/)).toBeInTheDocument();
    // When the network is back and Retry is clicked, Then the check passes
    online = true;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByText("Demo Shop 1")).toBeInTheDocument();
    expect(calls).toHaveLength(2);
  });

  it("shows Meta's profile before saving, sends one create for a double click, then forgets the secrets", async () => {
    // Given a check that passes and a create that takes a moment
    let release: () => void = () => {};
    const created = new Promise<Response>((resolve) => {
      release = () => resolve(json(201, { ...INTEGRATION, status: "validated" }, { etag: '"1"' }));
    });
    const { calls } = scriptedFetch((call) => (call.path.endsWith("/validate") ? json(200, VALIDATED) : created));
    const onSaved = vi.fn();
    renderWithPage(<IntegrationForm mode="create" onSaved={onSaved} onCancel={vi.fn()} />);
    const user = await fill({ ...VALID, "App ID": "300000000000001", "App secret": "demo-app-secret-0123456789abcdef" });
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
    // When the tenant checks, Then the phone profile and the warnings Meta returned are shown, and Save is enabled
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    expect(await screen.findByText("Demo Shop 1")).toBeInTheDocument();
    expect(screen.getByText("TIER_1K")).toBeInTheDocument();
    expect(screen.getByText("The token expires.")).toBeInTheDocument();
    // When Save is double-clicked
    const save = screen.getByRole("button", { name: "Save" });
    await user.dblClick(save);
    release();
    // Then one create went out, and the form holds no secret any more
    await waitFor(() => expect(onSaved).toHaveBeenCalledTimes(1));
    expect(calls.filter((call) => call.method === "POST" && call.path === "/integrations/whatsapp")).toHaveLength(1);
    expect(screen.getByLabelText("Access token")).toHaveValue("");
    expect(screen.getByLabelText("App secret")).toHaveValue("");
    expect(document.body.innerHTML).not.toContain("EAADEMOVALIDTOKEN");
    expect(document.body.innerHTML).not.toContain("demo-app-secret");
  });

  it("reveals a secret only on request, with a labelled toggle", async () => {
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />);
    const token = screen.getByLabelText("Access token");
    expect(token).toHaveAttribute("type", "password");
    await userEvent.setup().click(screen.getByRole("button", { name: "Show Access token" }));
    expect(token).toHaveAttribute("type", "text");
    expect(screen.getByRole("button", { name: "Hide Access token" })).toHaveAttribute("aria-controls", token.id);
  });

  it("asks the host for a new login on a 401", async () => {
    // Given API Gateway refuses the token
    scriptedFetch(() => json(401, { message: "Unauthorized" }));
    const onUnauthorized = vi.fn();
    renderWithPage(<IntegrationForm mode="create" onSaved={vi.fn()} onCancel={vi.fn()} />, { onUnauthorized });
    const user = await fill(VALID);
    // When a request is sent, Then the host's callback runs and the page offers to sign in again
    await user.click(screen.getByRole("button", { name: "Check with Meta" }));
    expect(await screen.findByText(/Your session has ended/)).toBeInTheDocument();
    expect(onUnauthorized).toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Sign in again" }));
    expect(onUnauthorized).toHaveBeenCalledTimes(2);
  });
});

describe("the edit form", () => {
  const current = { body: INTEGRATION, etag: '"1"' };

  it("on 412 keeps what was typed, reloads the latest version, and saves with its ETag", async () => {
    // Given the integration was renamed elsewhere (version 2, a new WABA ID) after the form was opened
    const latest = { ...INTEGRATION, version: 2, name: "Renamed elsewhere", waba_id: "200000000000002" };
    let puts = 0;
    const { calls } = scriptedFetch((call) => {
      if (call.method === "GET") return json(200, latest, { etag: '"2"' });
      puts += 1;
      if (puts === 1) {
        return json(412, { type: "x", title: "Stale version", status: 412, detail: "Changed.", code: "version_mismatch", errors: [] }, { etag: '"2"' });
      }
      return json(200, { ...latest, version: 3, name: "Support line" }, { etag: '"3"' });
    });
    const onSaved = vi.fn();
    renderWithPage(<IntegrationForm mode="edit" current={current} onSaved={onSaved} onCancel={vi.fn()} />);
    const user = await fill({ Name: "Support line" });
    // When the tenant saves with the stale ETag
    await user.click(screen.getByRole("button", { name: "Save" }));
    // Then the page says it changed elsewhere and offers to reload
    expect(await screen.findByText(/changed elsewhere/)).toBeInTheDocument();
    expect(calls[0]?.headers["if-match"]).toBe('"1"');
    // When the tenant reloads
    await user.click(screen.getByRole("button", { name: "Load the latest version, keep my changes" }));
    // Then what they typed stays, untouched fields take the latest values
    await waitFor(() => expect(screen.getByLabelText("WhatsApp Business Account ID")).toHaveValue("200000000000002"));
    expect(screen.getByLabelText("Name")).toHaveValue("Support line");
    // When they save again, Then it goes with the new ETag and only the name
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const lastPut = calls.filter((call) => call.method === "PUT").at(-1);
    expect(lastPut?.headers["if-match"]).toBe('"2"');
    expect(lastPut?.body).toEqual({ name: "Support line" });
  });

  it("opens on the token field with the fix when Meta wants a new token", () => {
    // Given an integration whose token Meta refused
    renderWithPage(
      <IntegrationForm mode="edit" current={current} focusField="access_token" fieldHint="Generate a new token with expiry Never." onSaved={vi.fn()} onCancel={vi.fn()} />,
    );
    // Then the token field has the focus and carries the fix
    const token = screen.getByLabelText("Access token");
    expect(document.activeElement).toBe(token);
    expect(token).toHaveAccessibleDescription("Generate a new token with expiry Never.");
  });

  it("sends nothing when nothing changed, and keeps stored secrets when their fields stay empty", async () => {
    const { calls } = scriptedFetch(() => json(200, INTEGRATION, { etag: '"2"' }));
    renderWithPage(<IntegrationForm mode="edit" current={current} onSaved={vi.fn()} onCancel={vi.fn()} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Nothing changed, nothing to save.")).toBeInTheDocument();
    expect(calls).toHaveLength(0);
    expect(screen.getByLabelText("Access token")).toHaveAccessibleDescription(/keep the current token \(…0000/);
  });
});
