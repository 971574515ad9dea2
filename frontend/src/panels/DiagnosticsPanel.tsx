import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { getDiagnostics, repairDiagnostics } from "../api/integrations";
import { isRouteMissing } from "../api/queries";
import type { CheckGroup, CheckStatus, Diagnostics } from "../api/types";
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

function DiagnosticsPanel({ integration }: PanelProps) {
  const { t, formatTime } = useI18n();
  const { api, docsLink } = usePage();
  const [result, setResult] = useState<Diagnostics | null>(null);
  const run = useMutation({ mutationFn: () => getDiagnostics(api, integration.id), onSuccess: setResult });
  const repair = useMutation({ mutationFn: () => repairDiagnostics(api, integration.id), onSuccess: setResult });
  const error = run.error ?? repair.error;
  if (isRouteMissing(error)) return null; // this API does not offer diagnostics (yet)
  const pending = run.isPending || repair.isPending;
  return (
    <section aria-labelledby="wi-diagnostics-title" className="wi-section">
      <h3 id="wi-diagnostics-title">{t("diagnostics.title")}</h3>
      <div className="wi-buttons">
        <button type="button" onClick={() => run.mutate()} disabled={pending}>
          {run.isPending ? t("action.checking") : t("diagnostics.run")}
        </button>
        {result?.items.some((item) => item.repairable) && (
          <button type="button" onClick={() => repair.mutate()} disabled={pending}>
            {repair.isPending ? t("diagnostics.repairing") : t("diagnostics.repair")}
          </button>
        )}
      </div>
      {error && <ErrorNotice error={error} onRetry={() => (run.isError ? run.mutate() : repair.mutate())} />}
      {result && (
        <>
          <p>
            {t("diagnostics.summary", {
              summary: t(CHECK_LABELS[result.summary].label),
              time: formatTime(result.checked_at),
            })}
          </p>
          {GROUPS.filter((group) => result.items.some((item) => item.group === group)).map((group) => (
            <div key={group}>
              <h4>{t(GROUP_LABELS[group])}</h4>
              <ul className="wi-checklist">
                {result.items
                  .filter((item) => item.group === group)
                  .map((item) => (
                    <li key={item.id} data-check={item.status}>
                      <span className={`wi-check wi-check-${item.status}`} aria-hidden="true">
                        {CHECK_LABELS[item.status].icon}
                      </span>{" "}
                      <strong>
                        {t(CHECK_LABELS[item.status].label)}: {item.title}
                      </strong>
                      <span className="wi-subtle"> {item.detail}</span>
                      {item.fix && (
                        <span className="wi-problem-fix">
                          {t("problem.fix")} {item.fix}
                        </span>
                      )}
                      {item.repaired && <span className="wi-note"> {t("diagnostics.repaired", { what: item.repaired })}</span>}
                      {item.link && (
                        <a href={docsLink({ path: item.link })} target="_blank" rel="noreferrer">
                          {t("diagnostics.more", { title: item.title })}
                        </a>
                      )}
                    </li>
                  ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </section>
  );
}

export const diagnosticsPanel: PanelDefinition = { id: "diagnostics", Component: DiagnosticsPanel };
