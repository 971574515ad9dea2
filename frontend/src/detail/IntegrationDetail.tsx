import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { getIntegration, type Tagged } from "../api/integrations";
import { keys } from "../api/queries";
import type { Integration } from "../api/types";
import { usePage } from "../context";
import { IntegrationForm } from "../form/IntegrationForm";
import { useI18n } from "../i18n";
import type { PanelDefinition } from "../panels/panel";
import { StatusSection } from "../status/StatusSection";
import { useLiveStatus } from "../status/useLiveStatus";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Actions } from "./Actions";

interface Props {
  id: string;
  panels: readonly PanelDefinition[];
  onClose: () => void;
}

type Editing = null | { focusToken: boolean };

export function IntegrationDetail({ id, panels, onClose }: Props) {
  const { t, formatTime } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Editing>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const integration = useQuery({
    queryKey: keys.integration(id),
    queryFn: () => getIntegration(api, id, queryClient.getQueryData<Tagged<Integration>>(keys.integration(id))),
  });
  const live = useLiveStatus(id);
  const status = live.data?.tagged.body;

  useEffect(() => {
    if (!editing) headingRef.current?.focus();
  }, [id, editing]);

  if (integration.isPending) return <p role="status">{t("detail.loading")}</p>;
  if (integration.isError) return <ErrorNotice error={integration.error} onRetry={() => void integration.refetch()} />;
  const current = integration.data;
  const item = current.body;
  const currentStatus = status?.status ?? item.status;

  if (editing) {
    const reauth = currentStatus === "reauth_required";
    return (
      <IntegrationForm
        key={`edit-${id}`}
        mode="edit"
        current={current}
        focusField={editing.focusToken ? "access_token" : undefined}
        fieldHint={editing.focusToken && reauth ? (status?.last_error?.fix ?? t("form.reauth_hint")) : undefined}
        onSaved={() => setEditing(null)}
        onCancel={() => setEditing(null)}
      />
    );
  }

  return (
    <article aria-labelledby="wi-detail-title" className="wi-detail">
      <h2 id="wi-detail-title" ref={headingRef} tabIndex={-1}>
        {item.name}
      </h2>
      <dl className="wi-facts">
        <div>
          <dt>{t("field.display_phone_number")}</dt>
          <dd>{item.phone_profile.display_phone_number ?? t("common.unknown")}</dd>
        </div>
        <div>
          <dt>{t("field.verified_name")}</dt>
          <dd>{item.phone_profile.verified_name ?? t("common.unknown")}</dd>
        </div>
        <div>
          <dt>{t("field.quality_rating")}</dt>
          <dd>{item.phone_profile.quality_rating ?? t("common.unknown")}</dd>
        </div>
        <div>
          <dt>{t("field.phone_number_id")}</dt>
          <dd>{item.phone_number_id}</dd>
        </div>
        <div>
          <dt>{t("field.waba_id")}</dt>
          <dd>{item.waba_id}</dd>
        </div>
        <div>
          <dt>{t("field.token_fingerprint")}</dt>
          <dd data-testid="token-fingerprint">{item.token_fingerprint}</dd>
        </div>
        <div>
          <dt>{t("field.app_id")}</dt>
          <dd>
            {item.app_id ?? t("common.none")}
            {item.has_app_secret ? ` (${t("detail.has_secret")})` : ""}
          </dd>
        </div>
        <div>
          <dt>{t("detail.updated")}</dt>
          <dd>{formatTime(item.updated_at)}</dd>
        </div>
      </dl>
      {item.warnings.length > 0 && (
        <ul className="wi-warnings" aria-label={t("form.warnings")}>
          {item.warnings.map((warning) => (
            <li key={warning.code}>
              <strong>{warning.message}</strong> {warning.fix}
            </li>
          ))}
        </ul>
      )}
      {currentStatus === "reauth_required" && (
        <div className="wi-error" role="note">
          <p>{status?.last_error?.fix ?? t("form.reauth_hint")}</p>
          <button type="button" className="wi-primary" onClick={() => setEditing({ focusToken: true })}>
            {t("action.replace_token")}
          </button>
        </div>
      )}
      <Actions
        integration={item}
        status={currentStatus}
        onEdit={() => setEditing({ focusToken: false })}
        onDeleted={onClose}
      />
      {status ? (
        <StatusSection id={id} status={status} />
      ) : live.isError ? (
        <ErrorNotice error={live.error} onRetry={() => void live.refetch()} />
      ) : (
        <p role="status">{t("detail.loading")}</p>
      )}
      {panels.map(({ id: panelId, Component }) => (
        <Component key={panelId} integration={item} status={status} />
      ))}
      <button type="button" onClick={onClose}>
        {t("action.close")}
      </button>
    </article>
  );
}
