import { useId, useState, type Ref } from "react";
import type { ProblemItem } from "../api/problem";
import { useI18n } from "../i18n";
import { ProblemItemView } from "../ui/ProblemItemView";

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  problems?: ProblemItem[];
  secret?: boolean;
  disabled?: boolean;
  inputMode?: "numeric" | "text";
  inputRef?: Ref<HTMLInputElement & HTMLTextAreaElement>;
  name: string;
  /** A textarea (up to maxLength characters) instead of a one-line input. */
  multiline?: boolean;
  maxLength?: number;
}

/** A labelled input with its hint and every problem reported for it (the field's own error list). */
export function FieldRow(props: Props) {
  const { label, value, onChange, hint, problems = [], secret, disabled, inputMode, inputRef, name, multiline, maxLength } = props;
  const { t } = useI18n();
  const id = useId();
  const [revealed, setRevealed] = useState(false);
  const hintId = `${id}-hint`;
  const errorsId = `${id}-errors`;
  const describedBy = [hint ? hintId : null, problems.length ? errorsId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`wi-field${problems.length ? " wi-field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      <div className="wi-input-row">
        {multiline ? (
          <textarea
            id={id}
            ref={inputRef}
            name={name}
            value={value}
            maxLength={maxLength}
            onChange={(event) => onChange(event.target.value)}
            aria-invalid={problems.length > 0 || undefined}
            aria-describedby={describedBy}
            disabled={disabled}
          />
        ) : (
        <input
          id={id}
          ref={inputRef}
          name={name}
          type={secret && !revealed ? "password" : "text"}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={problems.length > 0 || undefined}
          aria-describedby={describedBy}
          disabled={disabled}
          inputMode={inputMode}
          autoComplete="off"
          spellCheck={false}
        />
        )}
        {secret && (
          <button
            type="button"
            className="wi-reveal"
            aria-controls={id}
            onClick={() => setRevealed(!revealed)}
            disabled={disabled}
            aria-label={`${revealed ? t("action.hide") : t("action.show")} ${label}`}
          >
            {revealed ? t("action.hide") : t("action.show")}
          </button>
        )}
      </div>
      {hint && (
        <p id={hintId} className="wi-hint">
          {hint}
        </p>
      )}
      {problems.length > 0 && (
        <ul id={errorsId} className="wi-field-problems">
          {problems.map((item, index) => (
            <li key={index}>
              <ProblemItemView item={item} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
