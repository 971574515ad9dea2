import { useEffect, useId, useRef, useState } from "react";
import { useI18n } from "../i18n";

interface Props {
  label: string;
  question: string;
  confirmLabel: string;
  disabled: boolean;
  reasonId?: string;
  pending: boolean;
  onConfirm: () => void;
}

/** A destructive action asks first, in place; focus goes to the question's buttons and back. */
export function ConfirmAction({ label, question, confirmLabel, disabled, reasonId, pending, onConfirm }: Props) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const questionId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) cancelRef.current?.focus();
    else if (wasAsking.current) openerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button
        ref={openerRef}
        type="button"
        className="wi-danger"
        disabled={disabled || pending}
        aria-describedby={reasonId}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <div role="group" aria-labelledby={questionId} className="wi-confirm">
      <p id={questionId}>{question}</p>
      <button
        type="button"
        className="wi-danger"
        disabled={pending}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button ref={cancelRef} type="button" onClick={() => setAsking(false)}>
        {t("action.cancel")}
      </button>
    </div>
  );
}
