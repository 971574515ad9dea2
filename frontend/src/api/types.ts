// Shapes of the WhatsApp integrations API (docs/openapi.json). Secrets are write-only: never in a response.

export type IntegrationStatus =
  | "validated"
  | "connecting"
  | "connected"
  | "disconnecting"
  | "disconnected"
  | "error"
  | "reauth_required";

export interface PhoneProfile {
  display_phone_number: string | null;
  verified_name: string | null;
  quality_rating: string | null;
  name_status?: string | null;
  messaging_limit?: string | null;
  status?: string | null;
  can_send_message?: string | null;
}

export interface TokenFacts {
  type: string | null;
  app_id: string | null;
  expires_at: string | null;
  scopes: string[];
}

export interface IntegrationWarning {
  code: string;
  message: string;
  fix: string;
}

export interface Integration {
  id: string;
  name: string;
  phone_number_id: string;
  waba_id: string;
  app_id: string | null;
  token_fingerprint: string;
  has_app_secret: boolean;
  status: IntegrationStatus;
  phone_profile: PhoneProfile;
  token_facts: TokenFacts;
  warnings: IntegrationWarning[];
  version: number;
  created_at: string;
  updated_at: string;
  status_changed_at: string;
  /** The last failure, with the fix (list items carry it, so the list needs no status request per row). */
  last_error: IntegrationError | null;
  /** When Evolution and Meta were last checked. */
  last_checked_at: string | null;
}

export interface IntegrationList {
  items: Integration[];
  next_cursor: string | null;
}

export interface IntegrationError {
  code: string;
  message: string;
  fix: string;
  meta_code?: number | null;
  meta_subcode?: number | null;
  fbtrace_id?: string | null;
}

export interface StatusChange {
  from_status: IntegrationStatus;
  to_status: IntegrationStatus;
  reason: string;
  error: IntegrationError | null;
  correlation_id: string | null;
  occurred_at: string;
}

export interface Webhooks {
  /** Where Meta delivers this number's webhooks: this service's relay URL, set at connect; null: not wired. */
  meta_callback_url: string | null;
  last_meta_event_at: string | null;
  last_evolution_event_at: string | null;
}

export interface ConnectionStatus {
  id: string;
  status: IntegrationStatus;
  status_changed_at: string;
  pending_operation: string | null;
  last_error: IntegrationError | null;
  evolution: { instance_name: string | null; state: string | null };
  last_checked_at: string | null;
  version: number;
  history: StatusChange[];
  /** In the 202 answers of connect and disconnect, its fields are null: the next GET fills them in. */
  webhooks: Webhooks;
}

export interface ValidationResult {
  valid: boolean;
  phone_profile: PhoneProfile;
  token_facts: TokenFacts;
  warnings: IntegrationWarning[];
}

export interface CredentialsInput {
  name: string;
  phone_number_id: string;
  waba_id: string;
  access_token: string;
  app_id?: string;
  app_secret?: string;
}

export type IntegrationChanges = Partial<Omit<CredentialsInput, "app_id" | "app_secret">> & {
  app_id?: string | null;
  app_secret?: string | null;
};

export type TestMessageRequest =
  | { to: string; template: { name: string; language: string } }
  | { to: string; text: string };

export interface TestMessageAccepted {
  wamid: string;
  to_masked: string;
  status_url: string;
}

export type MessageProgress = "PENDING" | "SENT" | "DELIVERED" | "READ" | "PLAYED" | "FAILED";

export interface MessageStatus {
  wamid: string;
  status: MessageProgress;
  progress: MessageProgress;
  failed: boolean;
  failed_at: string | null;
  recipient: string | null;
  sent_at: string | null;
  updated_at: string;
  failure: null | {
    code: string;
    message: string;
    fix: string;
    meta_code: number | null;
    title: string | null;
    details: string | null;
  };
  pricing: null | {
    category: string | null;
    billable: boolean | null;
    pricing_model: string | null;
    type: string | null;
  };
  history: { status: MessageProgress; received_at: string }[];
}

export type CheckStatus = "ok" | "warn" | "fail" | "unknown";
export type CheckGroup = "token" | "phone" | "waba" | "evolution" | "traffic";

export interface DiagnosticItem {
  id: string;
  group: CheckGroup;
  status: CheckStatus;
  title: string;
  detail: string;
  fix: string | null;
  /** "docs/troubleshooting.md#check-token-valid": resolved against the page's docsBaseUrl */
  link: string;
  repairable: boolean;
  repaired: string | null;
}

export interface Diagnostics {
  integration_id: string;
  checked_at: string;
  summary: CheckStatus;
  items: DiagnosticItem[];
}
