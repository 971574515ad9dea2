import { memo, useEffect, useRef } from "react";
import type { Integration } from "../api/types";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import { STATUS_LABELS, StatusBadge } from "../status/StatusBadge";
import { useLiveStatus } from "../status/useLiveStatus";

interface Props {
  integration: Integration;
  selected: boolean;
  /** false until the list is painted: the live cells (one status query each) come after the first paint */
  live: boolean;
  onOpen: (id: string) => void;
}

/** One integration in the list; once painted, its status is live (polled), and every change is announced. */
export const IntegrationRow = memo(function IntegrationRow({ integration, selected, live, onOpen }: Props) {
  const { t } = useI18n();
  const profile = integration.phone_profile;
  return (
    <tr aria-current={selected || undefined} data-integration-id={integration.id}>
      <th scope="row" data-label={t("list.name")}>
        <button type="button" className="wi-link" onClick={() => onOpen(integration.id)}>
          {integration.name}
        </button>
      </th>
      <td data-label={t("list.phone")}>
        <span className="wi-phone">{profile.display_phone_number ?? integration.phone_number_id}</span>
        {profile.verified_name && <span className="wi-subtle"> {profile.verified_name}</span>}
      </td>
      {live ? (
        <LiveCells integration={integration} />
      ) : (
        <>
          <td data-label={t("list.status")}>
            <StatusBadge status={integration.status} />
          </td>
          <td data-label={t("list.quality")}>{profile.quality_rating ?? t("common.unknown")}</td>
          <td data-label={t("list.last_check")}>…</td>
          <td data-label={t("list.last_error")}>…</td>
        </>
      )}
    </tr>
  );
});

function LiveCells({ integration }: { integration: Integration }) {
  const { t, formatTime } = useI18n();
  const { announce } = usePage();
  const live = useLiveStatus(integration.id).data?.tagged.body;
  const status = live?.status ?? integration.status;
  const announced = useRef(status);
  useEffect(() => {
    if (announced.current === status) return;
    announced.current = status;
    announce(t("announce.status", { name: integration.name, status: t(STATUS_LABELS[status]) }));
  }, [status, integration.name, announce, t]);
  const lastError = live?.last_error;
  return (
    <>
      <td data-label={t("list.status")}>
        <StatusBadge status={status} />
      </td>
      <td data-label={t("list.quality")}>{integration.phone_profile.quality_rating ?? t("common.unknown")}</td>
      <td data-label={t("list.last_check")}>{live ? formatTime(live.last_checked_at) : "…"}</td>
      <td data-label={t("list.last_error")} className="wi-one-line" title={lastError?.message}>
        {lastError ? `${lastError.code}: ${lastError.message}` : t("common.none")}
      </td>
    </>
  );
}
