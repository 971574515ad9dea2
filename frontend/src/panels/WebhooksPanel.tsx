import { usePage } from "../context";
import { useI18n, type MessageKey } from "../i18n";
import { useNow } from "../ui/useNow";
import type { PanelDefinition, PanelProps } from "./panel";
import { delivery, webhookHints, type Delivery } from "./webhookHints";

const DELIVERY_LABELS: Record<Delivery, MessageKey> = {
  ours: "webhooks.ours",
  elsewhere: "webhooks.elsewhere",
  not_wired: "webhooks.not_wired",
};

/**
 * The Meta relay: where Meta delivers this number's webhooks (this service's URL, or not wired), and when Meta's
 * and the WhatsApp gateway's webhooks last arrived, with a hint when one is missing or quiet.
 */
function WebhooksPanel({ status }: PanelProps) {
  const { t, formatTime } = useI18n();
  const { docsLink } = usePage();
  const now = useNow();
  if (!status?.webhooks) return null; // the status is loading, or this API does not report webhooks
  const { webhooks } = status;
  const where = delivery(status);
  const hints = webhookHints(status, now);
  const when = (at: string | null) => (at ? <time dateTime={at}>{formatTime(at)}</time> : t("common.never"));
  return (
    <section aria-labelledby="wi-webhooks-title" className="wi-section">
      <h3 id="wi-webhooks-title">{t("webhooks.title")}</h3>
      <p className="wi-hint">{t("webhooks.intro")}</p>
      <dl className="wi-facts">
        <div className="wi-fact-wide">
          <dt>{t("webhooks.where")}</dt>
          <dd data-delivery={where}>
            {t(DELIVERY_LABELS[where])}
            {where === "ours" && webhooks.meta_callback_url && (
              <>
                {" "}
                <code className="wi-url">{webhooks.meta_callback_url}</code>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>{t("webhooks.last_meta")}</dt>
          <dd>{when(webhooks.last_meta_event_at)}</dd>
        </div>
        <div>
          <dt>{t("webhooks.last_evolution")}</dt>
          <dd>{when(webhooks.last_evolution_event_at)}</dd>
        </div>
      </dl>
      {hints.length > 0 && (
        <ul className="wi-hints" aria-label={t("webhooks.hints")}>
          {hints.map((hint) => (
            <li key={hint.key}>
              {t(hint.key)}{" "}
              <a href={docsLink(hint.link)} target="_blank" rel="noreferrer">
                {t(hint.linkLabel)}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export const webhooksPanel: PanelDefinition = { id: "webhooks", Component: WebhooksPanel };
