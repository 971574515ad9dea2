import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import {
  createIntegration,
  getIntegration,
  updateIntegration,
  validateCredentials,
  type Tagged,
} from "../api/integrations";
import { ApiError, type ProblemItem } from "../api/problem";
import { keys } from "../api/queries";
import type { CredentialsInput, Integration, ValidationResult } from "../api/types";
import { usePage } from "../context";
import { useI18n, type MessageKey } from "../i18n";
import { isInProgress } from "../status/polling";
import { ErrorNotice } from "../ui/ErrorNotice";
import { changesFrom, rebase, valuesOf } from "./changes";
import { FieldRow } from "./FieldRow";
import { CREDENTIAL_FIELDS, EMPTY_VALUES, FORM_FIELDS, mapProblemItems, type FormField, type FormValues } from "./fields";
import { ProfilePreview } from "./ProfilePreview";
import { asProblemItems, checkValues, trimmed } from "./validation";

type Props =
  | { mode: "create"; onSaved: (saved: Tagged<Integration>) => void; onCancel: () => void }
  | {
      mode: "edit";
      current: Tagged<Integration>;
      /** Open with this field focused, e.g. the token when Meta wants a new one. */
      focusField?: FormField;
      fieldHint?: string;
      onSaved: (saved: Tagged<Integration>) => void;
      onCancel: () => void;
    };

const LABELS: Record<FormField, MessageKey> = {
  name: "field.name",
  phone_number_id: "field.phone_number_id",
  waba_id: "field.waba_id",
  access_token: "field.access_token",
  app_id: "field.app_id",
  app_secret: "field.app_secret",
};

const NUMERIC: ReadonlySet<FormField> = new Set(["phone_number_id", "waba_id", "app_id"]);

function requestBody(values: FormValues): CredentialsInput {
  const v = trimmed(values);
  return {
    name: v.name,
    phone_number_id: v.phone_number_id,
    waba_id: v.waba_id,
    access_token: v.access_token,
    ...(v.app_id ? { app_id: v.app_id } : {}),
    ...(v.app_secret ? { app_secret: v.app_secret } : {}),
  };
}

export function IntegrationForm(props: Props) {
  const { t } = useI18n();
  const { api } = usePage();
  const queryClient = useQueryClient();
  const editing = props.mode === "edit";
  const [base, setBase] = useState<Tagged<Integration> | null>(editing ? props.current : null);
  const [values, setValues] = useState<FormValues>(base ? valuesOf(base.body) : EMPTY_VALUES);
  const [attempted, setAttempted] = useState(false);
  const [serverItems, setServerItems] = useState<ProblemItem[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const [checked, setChecked] = useState<{ result: ValidationResult; signature: string } | null>(null);
  const [notice, setNotice] = useState<MessageKey | null>(null);
  const lastAction = useRef<(() => Promise<void>) | null>(null);
  const busy = useRef(false); // a second click in the same frame must not send a second request
  const inputs = useRef<Partial<Record<FormField, HTMLInputElement | null>>>({});

  const focusField = editing ? props.focusField : undefined;
  useEffect(() => {
    if (focusField) inputs.current[focusField]?.focus();
  }, [focusField]);

  const localProblems = attempted ? asProblemItems(checkValues(values, { keepsSecrets: editing }), t) : [];
  const problems = mapProblemItems([...localProblems, ...serverItems]);
  const signature = JSON.stringify(requestBody(values));
  const checkedNow = checked?.signature === signature ? checked.result : null;
  const credentialsLocked = editing && base !== null && isInProgress(base.body.status);

  function change(field: FormField, value: string) {
    setValues((previous) => ({ ...previous, [field]: value }));
    setServerItems((items) => items.filter((item) => mapProblemItems([item]).byField[field] === undefined));
    setNotice(null);
  }

  function showFailure(error: unknown) {
    const problem = error instanceof ApiError ? error.problem : null;
    const mapped = mapProblemItems(problem?.errors ?? []);
    setServerItems(problem?.errors ?? []);
    setFailure(error);
    const first = FORM_FIELDS.find((field) => mapped.byField[field]);
    if (first) inputs.current[first]?.focus();
  }

  function passesLocalChecks(): boolean {
    setAttempted(true);
    setServerItems([]);
    setFailure(null);
    const failed = checkValues(values, { keepsSecrets: editing })[0];
    if (failed) inputs.current[failed.field]?.focus();
    return failed === undefined;
  }

  async function guarded(run: () => Promise<void>) {
    if (busy.current) return;
    busy.current = true;
    try {
      await run();
    } finally {
      busy.current = false;
    }
  }

  const check = useMutation({ mutationFn: (input: CredentialsInput) => validateCredentials(api, input) });
  const create = useMutation({ mutationFn: (input: CredentialsInput) => createIntegration(api, input) });
  const update = useMutation({
    mutationFn: ({ id, etag, body }: { id: string; etag: string; body: ReturnType<typeof changesFrom> }) =>
      updateIntegration(api, id, etag, body),
  });
  const reload = useMutation({
    mutationFn: (id: string) => queryClient.fetchQuery({ queryKey: keys.integration(id), queryFn: () => getIntegration(api, id), staleTime: 0 }),
  });
  const pending = check.isPending || create.isPending || update.isPending || reload.isPending;

  function saved(result: Tagged<Integration>) {
    setValues(EMPTY_VALUES); // the secrets leave the DOM; from now on only the fingerprint is shown
    setChecked(null);
    queryClient.setQueryData(keys.integration(result.body.id), result);
    void queryClient.invalidateQueries({ queryKey: keys.list });
    void queryClient.invalidateQueries({ queryKey: keys.status(result.body.id) });
    props.onSaved(result);
  }

  const onCheck = () =>
    guarded(async () => {
      lastAction.current = onCheck;
      if (!passesLocalChecks()) return;
      const input = requestBody(values);
      try {
        const result = await check.mutateAsync(input);
        setChecked({ result, signature: JSON.stringify(input) });
      } catch (error) {
        showFailure(error);
      }
    });

  const save = () =>
    guarded(async () => {
      lastAction.current = save;
      if (!passesLocalChecks()) return;
      try {
        if (!base) {
          if (!checkedNow) return;
          saved(await create.mutateAsync(requestBody(values)));
          return;
        }
        const body = changesFrom(base.body, values);
        if (Object.keys(body).length === 0) {
          setNotice("form.nothing_changed");
          return;
        }
        saved(await update.mutateAsync({ id: base.body.id, etag: base.etag ?? `"${base.body.version}"`, body }));
      } catch (error) {
        showFailure(error);
      }
    });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void save();
  };

  const onReload = () =>
    guarded(async () => {
      if (!base) return;
      try {
        const latest = await reload.mutateAsync(base.body.id);
        setValues((typed) => rebase(typed, base.body, latest.body));
        setBase(latest);
        setFailure(null);
        setServerItems([]);
        setNotice("form.reloaded");
      } catch (error) {
        showFailure(error);
      }
    });

  const conflict = failure instanceof ApiError && failure.status === 412;
  const fieldHint = (field: FormField): string | undefined => {
    if (editing && field === props.focusField && props.fieldHint) return props.fieldHint;
    if (editing && field === "access_token") return t("form.keep_token", { fingerprint: base?.body.token_fingerprint ?? "" });
    if (editing && field === "app_secret" && base?.body.has_app_secret) return t("form.keep_secret");
    if (field === "phone_number_id") return t("hint.phone_number_id");
    if (field === "access_token") return t("hint.access_token");
    if (field === "app_id" || field === "app_secret") return t("hint.app_credentials");
    return undefined;
  };

  const headingId = editing ? "wi-form-edit-title" : "wi-form-create-title";
  return (
    <form className="wi-form" onSubmit={onSubmit} aria-labelledby={headingId} noValidate>
      <h2 id={headingId} tabIndex={-1}>
        {editing ? t("form.edit_title", { name: base?.body.name ?? "" }) : t("form.create_title")}
      </h2>
      {conflict ? (
        <div role="alert" className="wi-error">
          <p>{t("form.conflict")}</p>
          <button type="button" onClick={onReload} disabled={pending}>
            {t("action.reload_keep")}
          </button>
        </div>
      ) : (
        failure !== null && (
          <ErrorNotice error={failure} hideItems onRetry={() => void lastAction.current?.()} />
        )
      )}
      {problems.general.length > 0 && !conflict && (
        <ul className="wi-problems" aria-label={t("form.other_problems")}>
          {problems.general.map((item, index) => (
            <li key={index}>
              {item.field}: {item.message} {item.fix}
            </li>
          ))}
        </ul>
      )}
      {credentialsLocked && <p className="wi-note">{t("form.credentials_locked")}</p>}
      {FORM_FIELDS.map((field) => (
        <FieldRow
          key={field}
          name={field}
          label={t(LABELS[field])}
          value={values[field]}
          onChange={(value) => change(field, value)}
          hint={fieldHint(field)}
          problems={problems.byField[field]}
          secret={field === "access_token" || field === "app_secret"}
          inputMode={NUMERIC.has(field) ? "numeric" : "text"}
          disabled={credentialsLocked && CREDENTIAL_FIELDS.includes(field)}
          inputRef={(element) => {
            inputs.current[field] = element;
          }}
        />
      ))}
      {checkedNow && (
        <section aria-labelledby="wi-preview-title" className="wi-preview">
          <h3 id="wi-preview-title">{t("form.preview_title")}</h3>
          <ProfilePreview profile={checkedNow.phone_profile} warnings={checkedNow.warnings} />
        </section>
      )}
      {notice && (
        <p role="status" className="wi-note">
          {t(notice)}
        </p>
      )}
      <div className="wi-buttons">
        {!editing && (
          <button type="button" onClick={onCheck} disabled={pending} aria-busy={check.isPending || undefined}>
            {check.isPending ? t("action.checking") : t("action.check")}
          </button>
        )}
        <button
          type="submit"
          className="wi-primary"
          disabled={pending || (!editing && !checkedNow)}
          aria-busy={create.isPending || update.isPending || undefined}
          aria-describedby={!editing && !checkedNow ? "wi-save-hint" : undefined}
        >
          {create.isPending || update.isPending ? t("action.saving") : t("action.save")}
        </button>
        <button type="button" onClick={props.onCancel} disabled={pending}>
          {t("action.cancel")}
        </button>
      </div>
      {!editing && !checkedNow && (
        <p id="wi-save-hint" className="wi-hint">
          {t("form.check_first")}
        </p>
      )}
    </form>
  );
}
