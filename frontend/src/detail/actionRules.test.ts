import type { IntegrationStatus } from "../api/types";
import { actionStates } from "./actionRules";

const row = (status: IntegrationStatus, has_app_secret = true) => actionStates({ status, has_app_secret });

describe("actionStates: a button is disabled exactly where the API would answer 409 (or do nothing)", () => {
  it.each([
    ["validated", true, true],
    ["connecting", false, false],
    ["connected", false, true],
    ["disconnecting", false, false],
    ["disconnected", true, true],
    ["error", true, true],
    ["reauth_required", true, true],
  ] as const)("when %s: connect %s, credentials editable %s", (status, connect, editCredentials) => {
    expect(row(status).connect.enabled).toBe(connect);
    expect(row(status).edit_credentials.enabled).toBe(editCredentials);
    expect(row(status).delete.enabled).toBe(true);
  });

  it.each([
    ["validated", false],
    ["connecting", true],
    ["connected", true],
    ["disconnecting", false],
    ["disconnected", false],
    ["error", true],
    ["reauth_required", true],
  ] as const)("when %s: disconnect %s", (status, disconnect) => {
    expect(row(status).disconnect.enabled).toBe(disconnect);
    expect(row(status).disconnect.reason === null).toBe(disconnect);
  });

  it("refuses to connect without the app secret, and says why", () => {
    expect(row("validated", false).connect).toEqual({ enabled: false, reason: "reason.app_secret_required" });
  });
});
