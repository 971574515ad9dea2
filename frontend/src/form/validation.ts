// The API's own format checks (layers/core/whatsapp_integrations/domain/credentials.py and the request schema),
// run before a request so the common mistakes are caught at once. The API checks everything again.
import type { ProblemItem } from "../api/problem";
import type { MessageKey, Translate } from "../i18n";
import type { FormValues } from "./fields";

const NUMERIC_ID = /^[0-9]{5,20}$/;
const PHONE_NUMBER_LIKE = /^\+|[\s()-]/;
const TOKEN = /^[A-Za-z0-9_\-|.]{20,2048}$/;
const APP_SECRET = /^(?:[0-9a-fA-F]{32}|[A-Za-z0-9_-]{16,128})$/;
const NAME_MAX = 120;

export interface LocalCheck {
  field: keyof FormValues;
  code: string;
  message: MessageKey;
  fix: MessageKey;
}

export function looksLikePhoneNumber(value: string): boolean {
  const digits = value.replace(/\D/g, "");
  if (/^\d+$/.test(value)) return digits.length >= 7 && digits.length <= 13;
  return PHONE_NUMBER_LIKE.test(value.trim()) && digits.length >= 7 && digits.length <= 15;
}

function checkId(field: "phone_number_id" | "waba_id" | "app_id", value: string): LocalCheck[] {
  if (field === "phone_number_id" && looksLikePhoneNumber(value)) {
    return [{ field, code: "phone_number_instead_of_id", message: "check.phone_number_instead_of_id", fix: "fix.phone_number_instead_of_id" }];
  }
  if (NUMERIC_ID.test(value)) return [];
  return [{ field, code: `${field}_malformed`, message: "check.id_malformed", fix: "fix.where_ids_are" }];
}

function checkToken(token: string): LocalCheck[] {
  if (!token) return [{ field: "access_token", code: "access_token_missing", message: "check.access_token_missing", fix: "fix.paste_token" }];
  if (!TOKEN.test(token)) {
    return [{ field: "access_token", code: "access_token_malformed", message: "check.access_token_malformed", fix: "fix.paste_token" }];
  }
  if (!token.startsWith("EAA")) {
    return [{ field: "access_token", code: "access_token_not_meta", message: "check.access_token_not_meta", fix: "fix.generate_token" }];
  }
  return [];
}

/**
 * `keepsSecrets`: editing, where an empty token or secret keeps the stored one.
 * Values are trimmed first, like the API does.
 */
export function checkValues(raw: FormValues, { keepsSecrets = false } = {}): LocalCheck[] {
  const v = trimmed(raw);
  const checks: LocalCheck[] = [];
  if (!v.name) checks.push({ field: "name", code: "name_missing", message: "check.name_missing", fix: "fix.name" });
  else if (v.name.length > NAME_MAX) checks.push({ field: "name", code: "string_too_long", message: "check.name_too_long", fix: "fix.name" });
  checks.push(...checkId("phone_number_id", v.phone_number_id), ...checkId("waba_id", v.waba_id));
  if (!(keepsSecrets && !v.access_token)) checks.push(...checkToken(v.access_token));
  if (v.app_id) checks.push(...checkId("app_id", v.app_id));
  if (v.app_secret && !v.app_id) {
    checks.push({ field: "app_id", code: "app_id_required", message: "check.app_id_required", fix: "fix.app_id_required" });
  }
  if (v.app_secret && !APP_SECRET.test(v.app_secret)) {
    checks.push({ field: "app_secret", code: "app_secret_malformed", message: "check.app_secret_malformed", fix: "fix.app_secret_malformed" });
  }
  if (v.phone_number_id && v.phone_number_id === v.waba_id) {
    checks.push({ field: "waba_id", code: "same_id_twice", message: "check.same_id_twice", fix: "fix.same_id_twice" });
  }
  return checks;
}

export function trimmed(values: FormValues): FormValues {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value.trim()])) as FormValues;
}

export function asProblemItems(checks: LocalCheck[], t: Translate): ProblemItem[] {
  return checks.map((check) => ({ field: check.field, code: check.code, message: t(check.message, { field: check.field }), fix: t(check.fix) }));
}
