import { useMutation, useQueryClient } from "@tanstack/react-query";
import { refreshStatus } from "../api/integrations";
import { keys } from "../api/queries";
import type { ConnectionStatus } from "../api/types";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import { ErrorNotice } from "../ui/ErrorNotice";
import { LastError } from "./LastError";
import { StatusBadge } from "./StatusBadge";
import { Timeline } from "./Timeline";
import type { LiveStatus } from "./useLiveStatus";

/** The live status of one integration: badge, last check, "Check now", the last error and the timeline. */
export function StatusSection({ id, status }: { id: string; status: ConnectionStatus }) {
  const { t, formatTime } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const refresh = useMutation({
    mutationFn: () => refreshStatus(api, id),
    onSuccess: (fresh) => {
      queryClient.setQueryData<LiveStatus>(keys.status(id), { tagged: { body: fresh, etag: null }, unchangedPolls: 0 });
    },
  });
  return (
    <section aria-labelledby="wi-status-title" className="wi-section">
      <h3 id="wi-status-title">{t("status.title")}</h3>
      <p className="wi-status-line">
        <StatusBadge status={status.status} />{" "}
        <span>{t("status.since", { time: formatTime(status.status_changed_at) })}</span>
      </p>
      <p>
        {t("status.last_checked", { time: formatTime(status.last_checked_at) })}{" "}
        <button type="button" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          {refresh.isPending ? t("action.checking") : t("action.check_now")}
        </button>
      </p>
      {refresh.isError && <ErrorNotice error={refresh.error} onRetry={() => refresh.mutate()} />}
      {status.webhooks && (
        <dl className="wi-facts">
          <div>
            <dt>{t("status.meta_callback_url")}</dt>
            <dd>{status.webhooks.meta_callback_url ?? t("common.none")}</dd>
          </div>
          <div>
            <dt>{t("status.last_meta_event")}</dt>
            <dd>{formatTime(status.webhooks.last_meta_event_at)}</dd>
          </div>
          <div>
            <dt>{t("status.last_evolution_event")}</dt>
            <dd>{formatTime(status.webhooks.last_evolution_event_at)}</dd>
          </div>
        </dl>
      )}
      {status.last_error && <LastError error={status.last_error} />}
      <h3>{t("status.history")}</h3>
      <Timeline history={status.history} />
    </section>
  );
}
