import { memo, useEffect, useRef, type RefObject } from "react";
import type { Integration, IntegrationStatus } from "../api/types";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import { isInProgress, rowFacts, rowPolls, type RowFacts } from "../status/polling";
import { STATUS_LABELS, StatusBadge } from "../status/StatusBadge";
import { useLiveStatus } from "../status/useLiveStatus";

interface Props {
  integration: Integration;
  /** When the list answered (its dataUpdatedAt): a status answer newer than this one wins. */
  listedAt: number;
  selected: boolean;
  /** false until the list is painted: no row watches its status before the first paint */
  painted: boolean;
  onOpen: (id: string) => void;
}

/**
 * One integration in the list. The list item carries the status, the last error and the last check, so most rows
 * make no request of their own: only a row that is connecting or disconnecting polls its status, and the open
 * one shows what its detail polls. Every change of status is announced.
 */
export const IntegrationRow = memo(function IntegrationRow(props: Props) {
  const announcedRef = useRef<IntegrationStatus>(props.integration.status);
  const watched = props.painted && (props.selected || isInProgress(props.integration.status));
  return watched ? (
    <WatchedRow {...props} announcedRef={announcedRef} />
  ) : (
    <RowView {...props} facts={props.integration} announcedRef={announcedRef} />
  );
});

type Announced = RefObject<IntegrationStatus>;

/** A row that follows the status query: polling it while in progress, reading the detail's polls otherwise. */
function WatchedRow(props: Props & { announcedRef: Announced }) {
  const { integration, listedAt } = props;
  const live = useLiveStatus(integration.id, (query) =>
    rowPolls(rowFacts(integration, listedAt, query.state.data?.tagged.body, query.state.dataUpdatedAt), true),
  );
  return <RowView {...props} facts={rowFacts(integration, listedAt, live.data?.tagged.body, live.dataUpdatedAt)} />;
}

function RowView({ integration, facts, selected, onOpen, announcedRef }: Props & { facts: RowFacts; announcedRef: Announced }) {
  const { t, formatTime } = useI18n();
  const { announce } = usePage();
  const { status, last_error: lastError } = facts;
  useEffect(() => {
    if (announcedRef.current === status) return;
    announcedRef.current = status;
    announce(t("announce.status", { name: integration.name, status: t(STATUS_LABELS[status]) }));
  }, [status, integration.name, announce, t, announcedRef]);
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
}
