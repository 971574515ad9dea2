// One function per route of the API; each returns what the page needs from the answer.
import type { ApiClient } from "./client";
import type {
  ConnectionStatus,
  CredentialsInput,
  Diagnostics,
  Integration,
  IntegrationChanges,
  IntegrationList,
  MessageStatus,
  TestMessageAccepted,
  TestMessageRequest,
  ValidationResult,
} from "./types";

const BASE = "/integrations/whatsapp";

export interface Tagged<T> {
  body: T;
  etag: string | null;
}

const one = (id: string) => `${BASE}/${encodeURIComponent(id)}`;

function required<T>(body: T | null): T {
  if (body === null) throw new Error("the API answered without a body");
  return body;
}

export async function listIntegrations(api: ApiClient, cursor?: string): Promise<IntegrationList> {
  const query = new URLSearchParams({ limit: "100" });
  if (cursor) query.set("cursor", cursor);
  return required((await api<IntegrationList>("GET", `${BASE}?${query}`)).body);
}

/** A conditional GET: on 304 the previous answer is still current and is returned as is. */
async function conditionalGet<T>(api: ApiClient, path: string, previous?: Tagged<T>): Promise<Tagged<T>> {
  const answer = await api<T>("GET", path, { ifNoneMatch: previous?.etag ?? undefined });
  if (answer.status === 304 && previous) return previous;
  return { body: required(answer.body), etag: answer.etag };
}

export function getIntegration(api: ApiClient, id: string, previous?: Tagged<Integration>) {
  return conditionalGet(api, one(id), previous);
}

export function getStatus(api: ApiClient, id: string, history: number, previous?: Tagged<ConnectionStatus>) {
  return conditionalGet(api, `${one(id)}/status?history=${history}`, previous);
}

export async function refreshStatus(api: ApiClient, id: string): Promise<ConnectionStatus> {
  return required((await api<ConnectionStatus>("POST", `${one(id)}/status/refresh`)).body);
}

export async function validateCredentials(api: ApiClient, input: CredentialsInput): Promise<ValidationResult> {
  return required((await api<ValidationResult>("POST", `${BASE}/validate`, { body: input })).body);
}

export async function createIntegration(api: ApiClient, input: CredentialsInput): Promise<Tagged<Integration>> {
  const answer = await api<Integration>("POST", BASE, { body: input });
  return { body: required(answer.body), etag: answer.etag };
}

export async function updateIntegration(
  api: ApiClient,
  id: string,
  etag: string,
  changes: IntegrationChanges,
): Promise<Tagged<Integration>> {
  const answer = await api<Integration>("PUT", one(id), { body: changes, ifMatch: etag });
  return { body: required(answer.body), etag: answer.etag };
}

export async function connect(api: ApiClient, id: string): Promise<ConnectionStatus> {
  return required((await api<ConnectionStatus>("POST", `${one(id)}/connect`)).body);
}

export async function disconnect(api: ApiClient, id: string): Promise<ConnectionStatus> {
  return required((await api<ConnectionStatus>("POST", `${one(id)}/disconnect`)).body);
}

/** 204: gone at once; 202: being deprovisioned first, it disappears when that is done. */
export async function deleteIntegration(api: ApiClient, id: string): Promise<"deleted" | "deleting"> {
  const answer = await api<ConnectionStatus>("DELETE", one(id));
  return answer.status === 202 ? "deleting" : "deleted";
}

export async function sendTestMessage(
  api: ApiClient,
  id: string,
  message: TestMessageRequest,
): Promise<TestMessageAccepted> {
  return required((await api<TestMessageAccepted>("POST", `${one(id)}/test-message`, { body: message })).body);
}

/** `statusUrl` is the API's own path (its wamid already URL-encoded). */
export async function getMessageStatus(api: ApiClient, statusUrl: string): Promise<MessageStatus> {
  return required((await api<MessageStatus>("GET", statusUrl)).body);
}

export async function getDiagnostics(api: ApiClient, id: string): Promise<Diagnostics> {
  return required((await api<Diagnostics>("GET", `${one(id)}/diagnostics`)).body);
}

export async function repairDiagnostics(api: ApiClient, id: string): Promise<Diagnostics> {
  return required((await api<Diagnostics>("POST", `${one(id)}/diagnostics/repair`)).body);
}
