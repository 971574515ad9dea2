import { ApiError, type ProblemItem } from "../api/problem";
import { usePage } from "../context";
import { useI18n, type MessageKey } from "../i18n";
import { ProblemItemView } from "./ProblemItemView";
import { useCountdown } from "./useCountdown";

interface Props {
  error: unknown;
  /** Offered for failures that may pass on a second try (network, 429, 5xx). */
  onRetry?: () => void;
  /** Leave out the items the caller shows at their fields. */
  hideItems?: boolean;
  /** The items to list here (default: all of the problem's), e.g. those no field of the caller's form shows. */
  items?: ProblemItem[];
  /** Wait messages by problem code ({seconds} and {wait} are filled in), over the defaults. */
  waitMessages?: Record<string, MessageKey>;
}

const WAIT_MESSAGES: Record<string, MessageKey> = {
  meta_unavailable: "error.meta_unavailable",
  rate_limited: "error.rate_limited",
};

/** Every failed request renders here, from its problem+json: never a stack trace or a raw object. */
export function ErrorNotice({ error, onRetry, hideItems = false, items, waitMessages }: Props) {
  const { t, formatWait } = useI18n();
  const { requestLogin, docsLink } = usePage();
  const apiError = error instanceof ApiError ? error : null;
  const secondsLeft = useCountdown(apiError?.retryAfterSeconds ?? null);
  if (!apiError) {
    return (
      <div role="alert" className="wi-error">
        <p>{t("error.unexpected")}</p>
        {onRetry && <RetryButton onRetry={onRetry} />}
      </div>
    );
  }
  const { problem } = apiError;
  if (apiError.kind === "network") {
    return (
      <div role="alert" className="wi-error">
        <p>{t("error.network")}</p>
        {onRetry && <RetryButton onRetry={onRetry} />}
      </div>
    );
  }
  if (apiError.status === 401) {
    return (
      <div role="alert" className="wi-error">
        <p>{t("error.unauthorized")}</p>
        <button type="button" onClick={requestLogin}>
          {t("action.sign_in_again")}
        </button>
      </div>
    );
  }
  if (apiError.kind === "gateway" || apiError.kind === "unexpected") {
    const key: MessageKey =
      apiError.status === 403 ? "error.forbidden" : apiError.status === 404 ? "error.not_offered" : "error.gateway";
    return (
      <div role="alert" className="wi-error">
        <p>{t(key, { status: apiError.status })}</p>
        {onRetry && apiError.status >= 429 && <RetryButton onRetry={onRetry} />}
      </div>
    );
  }
  const waitKey =
    waitMessages?.[problem.code] ?? WAIT_MESSAGES[problem.code] ?? (apiError.status >= 500 ? "error.unavailable" : null);
  const listed = hideItems ? [] : (items ?? problem.errors);
  const left = Math.max(secondsLeft ?? 0, 0);
  const waiting = secondsLeft !== null && secondsLeft > 0;
  return (
    <div role="alert" className="wi-error">
      <p className="wi-error-title">
        {waitKey && apiError.retryAfterSeconds !== null
          ? t(waitKey, { seconds: left, wait: formatWait(left) })
          : problem.detail || problem.title}
      </p>
      {waitKey && apiError.retryAfterSeconds === null && <p>{problem.detail}</p>}
      {listed.length > 0 && (
        <ul className="wi-problems">
          {listed.map((item, index) => (
            <li key={index}>
              <ProblemItemView item={item} />
            </li>
          ))}
        </ul>
      )}
      <p className="wi-problem-detail">
        <a href={docsLink({ code: problem.code })} target="_blank" rel="noreferrer">
          <code>{problem.code}</code>
        </a>
        {problem.request_id && <> · {t("problem.request_id", { id: problem.request_id })}</>}
      </p>
      {onRetry && (waitKey || apiError.status >= 500) && <RetryButton onRetry={onRetry} disabled={waiting} />}
    </div>
  );
}

function RetryButton({ onRetry, disabled = false }: { onRetry: () => void; disabled?: boolean }) {
  const { t } = useI18n();
  return (
    <button type="button" onClick={onRetry} disabled={disabled}>
      {t("action.retry")}
    </button>
  );
}
