import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";
import { getMessageStatus, sendTestMessage } from "../api/integrations";
import { ApiError, type ProblemItem } from "../api/problem";
import { isRouteMissing } from "../api/queries";
import type { MessageStatus, TestMessageAccepted, TestMessageRequest } from "../api/types";
import { usePage } from "../context";
import { FieldRow } from "../form/FieldRow";
import { useI18n } from "../i18n";
import { ErrorNotice } from "../ui/ErrorNotice";
import type { PanelDefinition, PanelProps } from "./panel";

const RECIPIENT = /^[0-9]{8,15}$/;
const TEXT_MAX = 4096;
const MESSAGE_POLL_MS = 2_000;
const FINAL: ReadonlySet<MessageStatus["status"]> = new Set(["READ", "PLAYED", "FAILED"]);

type Kind = "template" | "text";

function TestMessagePanel({ integration, status }: PanelProps) {
  const { t } = useI18n();
  const { api } = usePage();
  const [to, setTo] = useState("");
  const [kind, setKind] = useState<Kind>("template");
  const [template, setTemplate] = useState({ name: "hello_world", language: "en_US" });
  const [text, setText] = useState("");
  const [localItems, setLocalItems] = useState<ProblemItem[]>([]);
  const [accepted, setAccepted] = useState<TestMessageAccepted | null>(null);
  const busy = useRef(false);
  const textId = useId();
  const send = useMutation({
    mutationFn: (message: TestMessageRequest) => sendTestMessage(api, integration.id, message),
    onSuccess: setAccepted,
  });
  const progress = useQuery({
    queryKey: ["message", accepted?.status_url],
    queryFn: () => getMessageStatus(api, accepted!.status_url),
    enabled: accepted !== null,
    refetchInterval: (query) => (query.state.data && FINAL.has(query.state.data.status) ? false : MESSAGE_POLL_MS),
  });
  if (isRouteMissing(send.error)) return null; // this API does not offer test messages (yet)
  const connected = (status?.status ?? integration.status) === "connected";
  const items = [...localItems, ...(send.error instanceof ApiError ? send.error.problem.errors : [])];
  const at = (field: string) => items.filter((item) => item.field === field);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (busy.current || send.isPending) return;
    const problems: ProblemItem[] = [];
    if (!RECIPIENT.test(to.trim())) problems.push({ field: "to", code: "invalid_recipient", message: t("test.to_invalid"), fix: t("test.to_fix") });
    if (kind === "text" && (!text.trim() || text.length > TEXT_MAX)) {
      problems.push({ field: "text", code: "invalid_text", message: t("test.text_invalid", { max: TEXT_MAX }) });
    }
    setLocalItems(problems);
    if (problems.length) return;
    busy.current = true;
    setAccepted(null);
    const message: TestMessageRequest = kind === "template" ? { to: to.trim(), template } : { to: to.trim(), text };
    send.mutate(message, { onSettled: () => (busy.current = false) });
  };

  return (
    <section aria-labelledby="wi-test-title" className="wi-section">
      <h3 id="wi-test-title">{t("test.title")}</h3>
      {!connected ? (
        <p className="wi-hint">{t("test.connect_first")}</p>
      ) : (
        <form onSubmit={onSubmit} noValidate aria-labelledby="wi-test-title">
          <FieldRow name="to" label={t("test.to")} value={to} onChange={setTo} hint={t("test.to_hint")} problems={at("to")} inputMode="numeric" />
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
              <FieldRow name="template" label={t("test.template_name")} value={template.name} onChange={(name) => setTemplate({ ...template, name })} problems={at("template")} />
              <FieldRow name="language" label={t("test.template_language")} value={template.language} onChange={(language) => setTemplate({ ...template, language })} />
            </>
          ) : (
            <div className="wi-field">
              <label htmlFor={textId}>{t("test.text")}</label>
              <textarea id={textId} value={text} maxLength={TEXT_MAX} onChange={(event) => setText(event.target.value)} />
              {at("text").map((item, index) => (
                <p key={index} className="wi-field-problems">
                  {item.message} {item.fix}
                </p>
              ))}
            </div>
          )}
          {send.error instanceof Error && <ErrorNotice error={send.error} hideItems />}
          <button type="submit" className="wi-primary" disabled={send.isPending}>
            {send.isPending ? t("test.sending") : t("test.send")}
          </button>
        </form>
      )}
      {accepted && (
        <div role="status" className="wi-note">
          <p>{t("test.accepted", { to: accepted.to_masked })}</p>
          {progress.data && <MessageProgressView message={progress.data} />}
          {progress.isError && <ErrorNotice error={progress.error} onRetry={() => void progress.refetch()} />}
        </div>
      )}
    </section>
  );
}

function MessageProgressView({ message }: { message: MessageStatus }) {
  const { t, formatTime } = useI18n();
  return (
    <>
      <p>{t("test.progress", { status: message.status })}</p>
      <ol className="wi-timeline">
        {message.history.map((step, index) => (
          <li key={index}>
            <time dateTime={step.received_at}>{formatTime(step.received_at)}</time> {step.status}
          </li>
        ))}
      </ol>
      {message.failure && (
        <p className="wi-error">
          <code>{message.failure.code}</code>: {message.failure.message} {message.failure.fix}
        </p>
      )}
      {message.pricing?.category && <p className="wi-subtle">{t("test.pricing", { category: message.pricing.category })}</p>}
    </>
  );
}

export const testMessagePanel: PanelDefinition = { id: "test-message", Component: TestMessagePanel };
