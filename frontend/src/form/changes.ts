import type { Integration, IntegrationChanges } from "../api/types";
import { type FormField, type FormValues } from "./fields";
import { trimmed } from "./validation";

export function valuesOf(integration: Integration): FormValues {
  return {
    name: integration.name,
    phone_number_id: integration.phone_number_id,
    waba_id: integration.waba_id,
    access_token: "",
    app_id: integration.app_id ?? "",
    app_secret: "",
  };
}

/** What an edit sends: only what differs from the version it was made on. Empty secrets keep the stored ones. */
export function changesFrom(base: Integration, values: FormValues): IntegrationChanges {
  const v = trimmed(values);
  const changes: IntegrationChanges = {};
  if (v.name !== base.name) changes.name = v.name;
  if (v.phone_number_id !== base.phone_number_id) changes.phone_number_id = v.phone_number_id;
  if (v.waba_id !== base.waba_id) changes.waba_id = v.waba_id;
  if (v.access_token) changes.access_token = v.access_token;
  if ((v.app_id || null) !== base.app_id) changes.app_id = v.app_id || null;
  if (v.app_secret) changes.app_secret = v.app_secret;
  else if (changes.app_id === null && base.has_app_secret) changes.app_secret = null; // a secret needs its app ID
  return changes;
}

/**
 * After a 412 the form is rebased on the latest version: what the tenant typed stays, fields they did not
 * touch take the latest values.
 */
export function rebase(values: FormValues, oldBase: Integration, newBase: Integration): FormValues {
  const before = valuesOf(oldBase);
  const latest = valuesOf(newBase);
  const next = { ...values };
  for (const field of Object.keys(values) as FormField[]) {
    if (values[field] === before[field]) next[field] = latest[field];
  }
  return next;
}
