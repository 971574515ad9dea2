import type { StatusChange } from "../api/types";
import { useI18n } from "../i18n";
import { STATUS_LABELS } from "./StatusBadge";

/** The latest transitions, newest first, with their reasons and errors. */
export function Timeline({ history }: { history: StatusChange[] }) {
  const { t, formatTime } = useI18n();
  if (history.length === 0) return <p>{t("status.no_history")}</p>;
  return (
    <ol className="wi-timeline">
      {history.map((change, index) => (
        <li key={`${change.occurred_at}-${index}`}>
          <time dateTime={change.occurred_at}>{formatTime(change.occurred_at)}</time>{" "}
          <span>
            {t("status.transition", {
              from: t(STATUS_LABELS[change.from_status]),
              to: t(STATUS_LABELS[change.to_status]),
            })}
          </span>
          <span className="wi-subtle"> — {change.reason}</span>
          {change.error && (
            <span className="wi-timeline-error">
              {" "}
              <code>{change.error.code}</code>: {change.error.message}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}
