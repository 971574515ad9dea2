// Which buttons the API would accept now. A disabled button says why, instead of letting the API answer 409.
import type { IntegrationStatus } from "../api/types";
import type { MessageKey } from "../i18n";

export type Action = "connect" | "disconnect" | "delete" | "edit_credentials";

export interface ActionState {
  enabled: boolean;
  reason: MessageKey | null;
}

const enabled: ActionState = { enabled: true, reason: null };
const disabled = (reason: MessageKey): ActionState => ({ enabled: false, reason });

export function actionStates(integration: { status: IntegrationStatus; has_app_secret: boolean }): Record<Action, ActionState> {
  const { status } = integration;
  const busy = status === "connecting" || status === "disconnecting";
  return {
    connect:
      status === "connected"
        ? disabled("reason.already_connected")
        : status === "connecting"
          ? disabled("reason.connecting")
          : status === "disconnecting"
            ? disabled("reason.disconnecting")
            : !integration.has_app_secret
              ? disabled("reason.app_secret_required")
              : enabled,
    disconnect:
      status === "validated" || status === "disconnected"
        ? disabled("reason.not_connected")
        : status === "disconnecting"
          ? disabled("reason.disconnecting")
          : enabled,
    delete: enabled,
    edit_credentials: busy ? disabled("reason.credentials_busy") : enabled,
  };
}
