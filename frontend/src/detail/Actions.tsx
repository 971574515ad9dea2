import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { connect, deleteIntegration, disconnect } from "../api/integrations";
import { keys } from "../api/queries";
import type { ConnectionStatus, Integration } from "../api/types";
import { usePage } from "../context";
import { useI18n } from "../i18n";
import type { LiveStatus } from "../status/useLiveStatus";
import { ErrorNotice } from "../ui/ErrorNotice";
import { actionStates } from "./actionRules";
import { ConfirmAction } from "./ConfirmAction";

interface Props {
  integration: Integration;
  status: ConnectionStatus["status"];
  onEdit: () => void;
  onDeleted: () => void;
}

export function Actions({ integration, status, onEdit, onDeleted }: Props) {
  const { t } = useI18n();
  const { api, announce } = usePage();
  const queryClient = useQueryClient();
  const reasonIds = { connect: useId(), disconnect: useId() };
  const states = actionStates({ status, has_app_secret: integration.has_app_secret });

  const showStatus = (fresh: ConnectionStatus) => {
    const previous = queryClient.getQueryData<LiveStatus>(keys.status(integration.id))?.tagged.body;
    // The 202 answer has no history and no webhook facts (null): keep what we have until the next poll.
    const webhooks = {
      meta_callback_url: fresh.webhooks.meta_callback_url ?? previous?.webhooks.meta_callback_url ?? null,
      last_meta_event_at: fresh.webhooks.last_meta_event_at ?? previous?.webhooks.last_meta_event_at ?? null,
      last_evolution_event_at: fresh.webhooks.last_evolution_event_at ?? previous?.webhooks.last_evolution_event_at ?? null,
    };
    queryClient.setQueryData<LiveStatus>(keys.status(integration.id), {
      tagged: { body: { ...fresh, history: fresh.history.length ? fresh.history : (previous?.history ?? []), webhooks }, etag: null },
      unchangedPolls: 0,
    });
    void queryClient.invalidateQueries({ queryKey: keys.integration(integration.id) });
  };
  const [failure, setFailure] = useState<{ error: Error; retry: () => void } | null>(null);
  const tracked = { onMutate: () => setFailure(null) };
  const connectNow = useMutation({
    mutationFn: () => connect(api, integration.id),
    ...tracked,
    onSuccess: showStatus,
    onError: (error) => setFailure({ error, retry: () => connectNow.mutate() }),
  });
  const disconnectNow = useMutation({
    mutationFn: () => disconnect(api, integration.id),
    ...tracked,
    onSuccess: showStatus,
    onError: (error) => setFailure({ error, retry: () => disconnectNow.mutate() }),
  });
  const deleteNow = useMutation({
    mutationFn: () => deleteIntegration(api, integration.id),
    ...tracked,
    onError: (error) => setFailure({ error, retry: () => deleteNow.mutate() }),
    onSuccess: (outcome) => {
      announce(t(outcome === "deleted" ? "announce.deleted" : "announce.deleting", { name: integration.name }));
      void queryClient.invalidateQueries({ queryKey: keys.list });
      // Deleting after a disconnect: the row shows it until the integration is gone.
      if (outcome === "deleting") void queryClient.invalidateQueries({ queryKey: keys.status(integration.id) });
      onDeleted();
    },
  });
  const pending = connectNow.isPending || disconnectNow.isPending || deleteNow.isPending;

  return (
    <section aria-labelledby="wi-actions-title" className="wi-section">
      <h3 id="wi-actions-title" className="wi-visually-hidden">
        {t("detail.actions")}
      </h3>
      <div className="wi-buttons">
        <button type="button" onClick={onEdit} disabled={pending}>
          {t("action.edit")}
        </button>
        <button
          type="button"
          className="wi-primary"
          onClick={() => connectNow.mutate()}
          disabled={!states.connect.enabled || pending}
          aria-describedby={states.connect.reason ? reasonIds.connect : undefined}
        >
          {connectNow.isPending ? t("action.connecting") : t("action.connect")}
        </button>
        <ConfirmAction
          label={t("action.disconnect")}
          question={t("confirm.disconnect", { name: integration.name })}
          confirmLabel={t("action.confirm_disconnect")}
          disabled={!states.disconnect.enabled}
          reasonId={states.disconnect.reason ? reasonIds.disconnect : undefined}
          pending={pending}
          onConfirm={() => disconnectNow.mutate()}
        />
        <ConfirmAction
          label={t("action.delete")}
          question={t("confirm.delete", { name: integration.name })}
          confirmLabel={t("action.confirm_delete")}
          disabled={false}
          pending={pending}
          onConfirm={() => deleteNow.mutate()}
        />
      </div>
      {states.connect.reason && (
        <p id={reasonIds.connect} className="wi-hint">
          {t("reason.connect_prefix")} {t(states.connect.reason)}
        </p>
      )}
      {states.disconnect.reason && (
        <p id={reasonIds.disconnect} className="wi-hint">
          {t("reason.disconnect_prefix")} {t(states.disconnect.reason)}
        </p>
      )}
      {failure && <ErrorNotice error={failure.error} onRetry={failure.retry} />}
    </section>
  );
}
