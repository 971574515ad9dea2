import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { getDiagnostics, repairDiagnostics } from "../api/integrations";
import { isRouteMissing, keys } from "../api/queries";
import type { CheckGroup, CheckStatus, DiagnosticItem, Diagnostics } from "../api/types";
import { usePage } from "../context";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorNotice } from "../ui/ErrorNotice";
import type { PanelDefinition, PanelProps } from "./panel";

const GROUPS: CheckGroup[] = ["token", "phone", "waba", "evolution", "traffic"];
const GROUP_LABELS: Record<CheckGroup, MessageKey> = {
  token: "diagnostics.group.token",
  phone: "diagnostics.group.phone",
  waba: "diagnostics.group.waba",
  evolution: "diagnostics.group.evolution",
  traffic: "diagnostics.group.traffic",
};
// An icon and a word, so the result never depends on colour alone.
const CHECK_LABELS: Record<CheckStatus, { icon: string; label: MessageKey }> = {
  ok: { icon: "✓", label: "diagnostics.ok" },
  warn: { icon: "!", label: "diagnostics.warn" },
  fail: { icon: "✗", label: "diagnostics.fail" },
  unknown: { icon: "?", label: "diagnostics.unknown" },
};
const COUNT_LABELS: Record<CheckStatus, MessageKey> = {
  ok: "diagnostics.count.ok",
  warn: "diagnostics.count.warn",
  fail: "diagnostics.count.fail",
  unknown: "diagnostics.count.unknown",
};
const ORDER: CheckStatus[] = ["fail", "warn", "unknown", "ok"];

/** What Repair can fix now: a check that did not pass and is ours to repair. */
export const needsRepair = (item: DiagnosticItem) => item.repairable && item.status !== "ok";

interface Report {
  kind: "run" | "repair";
  diagnostics: Diagnostics;
}

function DiagnosticsPanel({ integration }: PanelProps) {
  const { t, formatTime } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const [report, setReport] = useState<Report | null>(null);
  const [last, setLast] = useState<Report["kind"]>("run");
  const run = useMutation({
    mutationFn: () => getDiagnostics(api, integration.id),
    onSuccess: (diagnostics) => setReport({ kind: "run", diagnostics }),
  });
  const repair = useMutation({
    mutationFn: () => repairDiagnostics(api, integration.id),
    onSuccess: (diagnostics) => {
      setReport({ kind: "repair", diagnostics });
      // A repair may re-create the instance or set the webhooks again: the status and the list show it.
      void queryClient.invalidateQueries({ queryKey: keys.status(integration.id) });
      void queryClient.invalidateQueries({ queryKey: keys.list });
    },
  });
  const error = last === "run" ? run.error : repair.error;
  const start = (kind: Report["kind"]) => {
    setLast(kind);
    if (kind === "run") run.mutate();
    else repair.mutate();
  };
  if (isRouteMissing(error)) return null; // this API does not offer diagnostics (yet)
  const pending = run.isPending || repair.isPending;
  const result = report?.diagnostics;
  const repairable = result?.items.filter(needsRepair) ?? [];
  const repaired = report?.kind === "repair" ? report.diagnostics.items.filter((item) => item.repaired) : [];
  const counts = ORDER.map((status) => [status, result?.items.filter((item) => item.status === status).length ?? 0] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => t(COUNT_LABELS[status], { count }));
  return (
    <section aria-labelledby="wi-diagnostics-title" className="wi-section">
      <h3 id="wi-diagnostics-title">{t("diagnostics.title")}</h3>
      <p className="wi-hint">{t("diagnostics.intro")}</p>
      <div className="wi-buttons">
        <button type="button" onClick={() => start("run")} disabled={pending}>
          {run.isPending ? t("action.checking") : t("diagnostics.run")}
        </button>
        {repairable.length > 0 && (
          <button type="button" className="wi-primary" onClick={() => start("repair")} disabled={pending} aria-describedby="wi-repair-hint">
            {repair.isPending ? t("diagnostics.repairing") : t("diagnostics.repair")}
          </button>
        )}
      </div>
      {repairable.length > 0 && (
        <p id="wi-repair-hint" className="wi-hint">
          {t("diagnostics.repair_hint", { count: repairable.length })}
        </p>
      )}
      {error && <ErrorNotice error={error} onRetry={() => start(last)} />}
      {report && result && (
        <>
          <div role="status" className={report.kind === "repair" ? "wi-note" : undefined}>
            {report.kind === "repair" && (
              <p>
                {repaired.length > 0
                  ? t("diagnostics.repair_done", { count: repaired.length })
                  : t("diagnostics.repair_nothing")}
              </p>
            )}
            <p data-summary={result.summary}>
              {t("diagnostics.summary", { summary: t(CHECK_LABELS[result.summary].label), time: formatTime(result.checked_at) })}{" "}
              {counts.join(", ")}
            </p>
          </div>
          {GROUPS.filter((group) => result.items.some((item) => item.group === group)).map((group) => (
            <div key={group}>
              <h4>{t(GROUP_LABELS[group])}</h4>
              <ul className="wi-checklist">
                {result.items
                  .filter((item) => item.group === group)
                  .map((item) => (
                    <CheckItem key={item.id} item={item} />
                  ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </section>
  );
}

function CheckItem({ item }: { item: DiagnosticItem }) {
  const { t } = useI18n();
  const { docsLink } = usePage();
  return (
    <li data-check={item.id} data-status={item.status}>
      <span className={`wi-check wi-check-${item.status}`} aria-hidden="true">
        {CHECK_LABELS[item.status].icon}
      </span>{" "}
      <strong>
        {t(CHECK_LABELS[item.status].label)}: {item.title}
      </strong>
      <span className="wi-check-detail"> {item.detail}</span>
      {item.repaired && <span className="wi-repaired">{t("diagnostics.repaired", { what: item.repaired })}</span>}
      {item.status !== "ok" && item.fix && (
        <span className="wi-problem-fix">
          {t("problem.fix")} {item.fix}
          {needsRepair(item) && ` ${t("diagnostics.repairable")}`}
        </span>
      )}
      {item.status !== "ok" && (
        <a className="wi-check-link" href={docsLink({ path: item.link })} target="_blank" rel="noreferrer">
          {t("diagnostics.more", { title: item.title })}
        </a>
      )}
    </li>
  );
}

export const diagnosticsPanel: PanelDefinition = { id: "diagnostics", Component: DiagnosticsPanel };
