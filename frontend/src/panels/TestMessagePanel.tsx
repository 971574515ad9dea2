import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { getMessageStatus, sendTestMessage } from "../api/integrations";
import { ApiError, type ProblemItem } from "../api/problem";
import { isRouteMissing, keys } from "../api/queries";
import type { MessageProgress, MessageStatus, TestMessageAccepted, TestMessageRequest } from "../api/types";
import { usePage } from "../context";
import { FieldRow } from "../form/FieldRow";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorNotice } from "../ui/ErrorNotice";
import type { PanelDefinition, PanelProps } from "./panel";
import {
  isFinal,
  mapTestMessageItems,
  MESSAGE_WATCH_MS,
  nextMessagePoll,
  normalizeRecipient,
  RECIPIENT,
  TEMPLATE_LANGUAGE,
  TEMPLATE_NAME,
  TEST_FIELDS,
  TEXT_MAX,
  type TestField,
} from "./testMessage";

type Kind = "template" | "text";

export const MESSAGE_LABELS: Record<MessageProgress, MessageKey> = {
  PENDING: "message.PENDING",
  SENT: "message.SENT",
  DELIVERED: "message.DELIVERED",
  READ: "message.READ",
  PLAYED: "message.PLAYED",
  FAILED: "message.FAILED",
};
const MESSAGE_MEANINGS: Record<MessageProgress, MessageKey> = {
  PENDING: "message.meaning.PENDING",
  SENT: "message.meaning.SENT",
  DELIVERED: "message.meaning.DELIVERED",
  READ: "message.meaning.READ",
  PLAYED: "message.meaning.PLAYED",
  FAILED: "message.meaning.FAILED",
};
// A test message is limited per number per hour, and goes through the WhatsApp gateway: say so, not "checks".
const WAIT_MESSAGES: Record<string, MessageKey> = {
  rate_limited: "test.rate_limited",
  gateway_unavailable: "test.gateway_unavailable",
};

interface Watch {
  accepted: TestMessageAccepted;
  startedAt: number;
}

function TestMessagePanel({ integration, status }: PanelProps) {
  const { t } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const [to, setTo] = useState("");
  const [kind, setKind] = useState<Kind>("template");
  const [template, setTemplate] = useState({ name: "hello_world", language: "en_US" });
  const [text, setText] = useState("");
  const [localItems, setLocalItems] = useState<ProblemItem[]>([]);
  const [watch, setWatch] = useState<Watch | null>(null);
  const busy = useRef(false); // a second click in the same frame must not send a second message
  const inputs = useRef<Partial<Record<TestField, HTMLElement | null>>>({});
  const send = useMutation({
    mutationFn: (message: TestMessageRequest) => sendTestMessage(api, integration.id, message),
    onSuccess: (accepted) => setWatch({ accepted, startedAt: Date.now() }),
    onError: (error) => {
      const items = error instanceof ApiError ? error.problem.errors : [];
      const first = TEST_FIELDS.find((field) => mapTestMessageItems(items).byField[field]);
      if (first) inputs.current[first]?.focus();
      if (items.some((item) => item.field === "access_token")) {
        // Meta refused the token: the integration now needs a new one, which the status shows at once.
        void queryClient.invalidateQueries({ queryKey: keys.status(integration.id) });
        void queryClient.invalidateQueries({ queryKey: keys.integration(integration.id) });
      }
    },
  });
  if (isRouteMissing(send.error)) return null; // this API does not offer test messages (yet)
  const connected = (status?.status ?? integration.status) === "connected";
  const serverItems = send.error instanceof ApiError ? send.error.problem.errors : [];
  const problems = mapTestMessageItems([...localItems, ...serverItems]);
  const at = (field: TestField) => problems.byField[field] ?? [];

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (busy.current || send.isPending) return;
    const recipient = normalizeRecipient(to);
    const local: ProblemItem[] = [];
    if (!RECIPIENT.test(recipient)) {
      local.push({ field: "to", code: "invalid_recipient", message: t("test.to_invalid"), fix: t("test.to_fix") });
    }
    if (kind === "template" && !TEMPLATE_NAME.test(template.name.trim())) {
      local.push({ field: "template.name", code: "invalid_template", message: t("test.template_invalid") });
    }
    if (kind === "template" && !TEMPLATE_LANGUAGE.test(template.language.trim())) {
      local.push({ field: "template.language", code: "invalid_language", message: t("test.language_invalid") });
    }
    if (kind === "text" && (!text.trim() || text.length > TEXT_MAX)) {
      local.push({ field: "text", code: "invalid_text", message: t("test.text_invalid", { max: TEXT_MAX }) });
    }
    setLocalItems(local);
    send.reset();
    const first = TEST_FIELDS.find((field) => mapTestMessageItems(local).byField[field]);
    if (first) {
      inputs.current[first]?.focus();
      return;
    }
    busy.current = true;
    setWatch(null);
    const message: TestMessageRequest =
      kind === "template"
        ? { to: recipient, template: { name: template.name.trim(), language: template.language.trim() } }
        : { to: recipient, text };
    send.mutate(message, { onSettled: () => (busy.current = false) });
  };

  return (
    <section aria-labelledby="wi-test-title" className="wi-section">
      <h3 id="wi-test-title">{t("test.title")}</h3>
      {!connected ? (
        <p className="wi-hint">{t("test.connect_first")}</p>
      ) : (
        <form onSubmit={onSubmit} noValidate aria-labelledby="wi-test-title">
          <FieldRow
            name="to"
            label={t("test.to")}
            value={to}
            onChange={setTo}
            hint={t("test.to_hint")}
            problems={at("to")}
            inputMode="numeric"
            inputRef={(element) => {
              inputs.current.to = element;
            }}
          />
          <fieldset className="wi-choice">
            <legend>{t("test.kind")}</legend>
            <label>
              <input type="radio" name="kind" checked={kind === "template"} onChange={() => setKind("template")} /> {t("test.template")}
            </label>
            <label>
              <input type="radio" name="kind" checked={kind === "text"} onChange={() => setKind("text")} /> {t("test.text")}
            </label>
          </fieldset>
          {kind === "template" ? (
            <>
              <FieldRow
                name="template"
                label={t("test.template_name")}
                value={template.name}
                onChange={(name) => setTemplate({ ...template, name })}
                hint={t("test.template_hint")}
                problems={at("template_name")}
                inputRef={(element) => {
                  inputs.current.template_name = element;
                }}
              />
              <FieldRow
                name="language"
                label={t("test.template_language")}
                value={template.language}
                onChange={(language) => setTemplate({ ...template, language })}
                hint={t("test.language_hint")}
                problems={at("template_language")}
                inputRef={(element) => {
                  inputs.current.template_language = element;
                }}
              />
            </>
          ) : (
            <FieldRow
              name="text"
              label={t("test.text")}
              value={text}
              onChange={setText}
              hint={t("test.text_hint")}
              problems={at("text")}
              multiline
              maxLength={TEXT_MAX}
              inputRef={(element) => {
                inputs.current.text = element;
              }}
            />
          )}
          {send.error && (
            <ErrorNotice
              error={send.error}
              items={problems.general}
              waitMessages={WAIT_MESSAGES}
              onRetry={() => {
                if (send.variables) send.mutate(send.variables);
              }}
            />
          )}
          <button type="submit" className="wi-primary" disabled={send.isPending}>
            {send.isPending ? t("test.sending") : t("test.send")}
          </button>
        </form>
      )}
      {watch && <MessageWatch key={watch.accepted.wamid} watch={watch} />}
    </section>
  );
}

/** Follows a sent message: each status as it arrives, until it is delivered or failed, for at most a minute. */
function MessageWatch({ watch }: { watch: Watch }) {
  const { t } = useI18n();
  const { api } = usePage();
  const { accepted } = watch;
  const [startedAt, setStartedAt] = useState(watch.startedAt);
  const progress = useQuery({
    queryKey: ["message", accepted.status_url],
    queryFn: () => getMessageStatus(api, accepted.status_url),
    refetchInterval: (query) => nextMessagePoll(query.state.data, Date.now() - startedAt),
  });
  const final = isFinal(progress.data);
  const [gaveUp, setGaveUp] = useState(false);
  useEffect(() => {
    if (final) return;
    const timer = setTimeout(() => setGaveUp(true), Math.max(0, startedAt + MESSAGE_WATCH_MS - Date.now()));
    return () => clearTimeout(timer);
  }, [final, startedAt]);
  const watchAgain = () => {
    setGaveUp(false);
    setStartedAt(Date.now());
    void progress.refetch();
  };
  const message = progress.data;
  return (
    <div className="wi-note wi-message" aria-labelledby="wi-message-title" role="group">
      <h4 id="wi-message-title">{t("test.accepted", { to: accepted.to_masked })}</h4>
      <p role="status" data-message-status={message?.status ?? "PENDING"}>
        <strong>{t("test.progress", { status: t(MESSAGE_LABELS[message?.status ?? "PENDING"]) })}</strong>{" "}
        {t(MESSAGE_MEANINGS[message?.status ?? "PENDING"])}
      </p>
      {message && <MessageDetails message={message} />}
      {progress.isError && <ErrorNotice error={progress.error} onRetry={() => void progress.refetch()} />}
      {gaveUp && !final && (
        <p>
          {t("test.gave_up")}{" "}
          <button type="button" onClick={watchAgain}>
            {t("test.watch_again")}
          </button>
        </p>
      )}
    </div>
  );
}

function MessageDetails({ message }: { message: MessageStatus }) {
  const { t, formatTime } = useI18n();
  const { docsLink } = usePage();
  const { failure } = message;
  const history = Array.isArray(message.history) ? message.history : []; // never let an odd answer break the page
  return (
    <>
      {history.length > 0 && (
        <ol className="wi-timeline" aria-label={t("test.history")}>
          {history.map((step, index) => (
            <li key={index}>
              <time dateTime={step.received_at}>{formatTime(step.received_at)}</time> {t(MESSAGE_LABELS[step.status] ?? "message.PENDING")}
            </li>
          ))}
        </ol>
      )}
      {failure && (
        <div className="wi-error">
          <p className="wi-problem-message">{failure.title ? `${failure.title}: ${failure.message}` : failure.message}</p>
          <p className="wi-problem-fix">
            {t("problem.fix")} {failure.fix}
          </p>
          {failure.details && <p className="wi-subtle">{failure.details}</p>}
          <p className="wi-problem-detail">
            <a href={docsLink({ code: failure.code })} target="_blank" rel="noreferrer">
              {t("test.failure_link", { code: failure.code })}
            </a>
            {failure.meta_code != null && <> · {t("problem.meta_code", { code: failure.meta_code })}</>}
          </p>
        </div>
      )}
      {message.pricing?.category && <p className="wi-subtle">{t("test.pricing", { category: message.pricing.category })}</p>}
    </>
  );
}

export const testMessagePanel: PanelDefinition = { id: "test-message", Component: TestMessagePanel };
