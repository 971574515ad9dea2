import type { IntegrationStatus } from "../api/types";
import { useI18n, type MessageKey } from "../i18n";

export const STATUS_LABELS: Record<IntegrationStatus, MessageKey> = {
  validated: "status.validated",
  connecting: "status.connecting",
  connected: "status.connected",
  disconnecting: "status.disconnecting",
  disconnected: "status.disconnected",
  error: "status.error",
  reauth_required: "status.reauth_required",
};

/** The status as text (never colour alone); `data-status` carries the machine value for styles and tests. */
export function StatusBadge({ status }: { status: IntegrationStatus }) {
  const { t } = useI18n();
  return (
    <span className={`wi-badge wi-badge-${status}`} data-status={status}>
      {t(STATUS_LABELS[status])}
    </span>
  );
}
