import type { ProblemItem } from "../api/problem";

export const FORM_FIELDS = ["name", "phone_number_id", "waba_id", "access_token", "app_id", "app_secret"] as const;
export type FormField = (typeof FORM_FIELDS)[number];
export type FormValues = Record<FormField, string>;
export const SECRET_FIELDS: readonly FormField[] = ["access_token", "app_secret"];
export const CREDENTIAL_FIELDS: readonly FormField[] = ["phone_number_id", "waba_id", "access_token", "app_id", "app_secret"];

export const EMPTY_VALUES: FormValues = {
  name: "",
  phone_number_id: "",
  waba_id: "",
  access_token: "",
  app_id: "",
  app_secret: "",
};

export interface MappedProblems {
  byField: Partial<Record<FormField, ProblemItem[]>>;
  /** Items that name no field of the form (body, path.integration_id, ...). */
  general: ProblemItem[];
}

/** The API names fields as `access_token`, or with a location prefix such as `body.access_token`. */
export function formFieldOf(field: string): FormField | null {
  const last = field.split(".").pop() ?? "";
  return (FORM_FIELDS as readonly string[]).includes(last) ? (last as FormField) : null;
}

export function mapProblemItems(items: readonly ProblemItem[]): MappedProblems {
  const mapped: MappedProblems = { byField: {}, general: [] };
  for (const item of items) {
    const field = formFieldOf(item.field);
    if (field) (mapped.byField[field] ??= []).push(item);
    else mapped.general.push(item);
  }
  return mapped;
}
