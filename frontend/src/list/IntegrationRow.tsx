import { memo, useEffect, useRef } from "react";
import type { Integration } from "../api/types";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import { rowFacts, rowPolls } from "../status/polling";
import { STATUS_LABELS, StatusBadge } from "../status/StatusBadge";
import { useLiveStatus } from "../status/useLiveStatus";

interface Props {
  integration: Integration;
  /** When the list answered (its dataUpdatedAt): a status answer newer than this one wins. */
  listedAt: number;
  selected: boolean;
  /** false until the list is painted: a row's own status polling starts after the first paint */
  painted: boolean;
  onOpen: (id: string) => void;
}

/**
 * One integration in the list. The list item carries the status, the last error and the last check; the row polls
 * its status itself only while the number is connecting or disconnecting (and shows what the open detail polls).
 * Every change of status is announced.
 */
export const IntegrationRow = memo(function IntegrationRow({ integration, listedAt, selected, painted, onOpen }: Props) {
  const { t, formatTime } = useI18n();
  const { announce } = usePage();
  const live = useLiveStatus(integration.id, (query) =>
    rowPolls(rowFacts(integration, listedAt, query.state.data?.tagged.body, query.state.dataUpdatedAt), painted),
  );
  const facts = rowFacts(integration, listedAt, live.data?.tagged.body, live.dataUpdatedAt);
  const { status, last_error: lastError } = facts;
  const announced = useRef(status);
  useEffect(() => {
    if (announced.current === status) return;
    announced.current = status;
    announce(t("announce.status", { name: integration.name, status: t(STATUS_LABELS[status]) }));
  }, [status, integration.name, announce, t]);
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
      <td data-label={t("list.status")}>
        <StatusBadge status={status} />
      </td>
      <td data-label={t("list.quality")}>{profile.quality_rating ?? t("common.unknown")}</td>
      <td data-label={t("list.last_check")}>
        {facts.last_checked_at ? <time dateTime={facts.last_checked_at}>{formatTime(facts.last_checked_at)}</time> : t("common.never")}
      </td>
      <td data-label={t("list.last_error")} className="wi-one-line" title={lastError?.message}>
        {lastError ? `${lastError.code}: ${lastError.message}` : t("common.none")}
      </td>
    </tr>
  );
});
