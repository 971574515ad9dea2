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

/** The live status of one integration: badge, last check, "Check now" (checks Evolution and Meta now), the last
 * error and the timeline. Where the webhooks go is the Webhooks panel's. */
export function StatusSection({ id, status }: { id: string; status: ConnectionStatus }) {
  const { t, formatTime } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const refresh = useMutation({
    mutationFn: () => refreshStatus(api, id),
    onSuccess: (fresh) => {
      queryClient.setQueryData<LiveStatus>(keys.status(id), { tagged: { body: fresh, etag: null }, unchangedPolls: 0 });
      void queryClient.invalidateQueries({ queryKey: keys.list }); // the row's last check and last error
      void queryClient.invalidateQueries({ queryKey: keys.integration(id) });
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
        <span role="status">{t("status.last_checked", { time: formatTime(status.last_checked_at) })}</span>{" "}
        <button type="button" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          {refresh.isPending ? t("action.checking") : t("action.check_now")}
        </button>
      </p>
      {refresh.isError && <ErrorNotice error={refresh.error} onRetry={() => refresh.mutate()} />}
      {status.last_error && <LastError error={status.last_error} />}
      <h3>{t("status.history")}</h3>
      <Timeline history={status.history} />
    </section>
  );
}
