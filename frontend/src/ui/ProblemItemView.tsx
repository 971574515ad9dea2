import type { ProblemItem } from "../api/problem";
import { usePage } from "../context";
import { useI18n } from "../i18n";

/** One thing to fix: the message, the fix, and Meta's code/subcode/fbtrace_id when Meta reported it. */
export function ProblemItemView({ item }: { item: ProblemItem }) {
  const { t } = useI18n();
  const { docsLink } = usePage();
  const meta = [
    item.meta_code != null ? t("problem.meta_code", { code: item.meta_code }) : null,
    item.meta_subcode != null ? t("problem.meta_subcode", { subcode: item.meta_subcode }) : null,
    item.fbtrace_id ? t("problem.fbtrace_id", { id: item.fbtrace_id }) : null,
  ].filter(Boolean);
  return (
    <>
      <span className="wi-problem-message">{item.message}</span>
      {item.fix && (
        <span className="wi-problem-fix">
          {t("problem.fix")} {item.fix}
        </span>
      )}
      <span className="wi-problem-detail">
        <a href={docsLink({ code: item.code })} target="_blank" rel="noreferrer">
          <code>{item.code}</code>
        </a>
        {meta.length > 0 && <> · {meta.join(" · ")}</>}
      </span>
    </>
  );
}
