import type { IntegrationError } from "../api/types";
import { useI18n } from "../i18n";
import { ProblemItemView } from "../ui/ProblemItemView";

export function LastError({ error }: { error: IntegrationError }) {
  const { t } = useI18n();
  return (
    <div className="wi-last-error">
      <h3>{t("status.last_error")}</h3>
      <p>
        <ProblemItemView item={{ field: "status", ...error }} />
      </p>
    </div>
  );
}
