import type { PhoneProfile, IntegrationWarning } from "../api/types";
import { useI18n } from "../i18n";

/** The phone number as Meta described it, and Meta's warnings, shown before anything is saved. */
export function ProfilePreview({ profile, warnings }: { profile: PhoneProfile; warnings: IntegrationWarning[] }) {
  const { t } = useI18n();
  const rows: [string, string | null | undefined][] = [
    [t("field.display_phone_number"), profile.display_phone_number],
    [t("field.verified_name"), profile.verified_name],
    [t("field.quality_rating"), profile.quality_rating],
    [t("field.messaging_limit"), profile.messaging_limit],
  ];
  return (
    <div className="wi-profile">
      <dl>
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value || t("common.unknown")}</dd>
          </div>
        ))}
      </dl>
      {warnings.length > 0 && (
        <ul className="wi-warnings" aria-label={t("form.warnings")}>
          {warnings.map((warning) => (
            <li key={warning.code}>
              <strong>{warning.message}</strong> {warning.fix}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
