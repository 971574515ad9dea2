// The rules of the test message panel, apart from its rendering: where the API's problem items are shown, and how
// long a sent message is followed.
import type { ProblemItem } from "../api/problem";
import type { MessageProgress, MessageStatus } from "../api/types";

export const TEST_FIELDS = ["to", "template_name", "template_language", "text"] as const;
export type TestField = (typeof TEST_FIELDS)[number];

export interface MappedTestProblems {
  byField: Partial<Record<TestField, ProblemItem[]>>;
  /** Items no field of the panel shows (e.g. `access_token`: Meta no longer accepts the token). */
  general: ProblemItem[];
}

/**
 * The API names the field of each item: `to`, `text`, `template` (Meta refused the template), or
 * `template.name` / `template.language` (a malformed request); sometimes with a `body.` prefix.
 */
export function testFieldOf(field: string): TestField | null {
  const path = field.replace(/^body\./, "");
  if (path === "to" || path === "text") return path;
  if (path === "template" || path === "template.name") return "template_name";
  if (path === "template.language") return "template_language";
  return null;
}

export function mapTestMessageItems(items: readonly ProblemItem[]): MappedTestProblems {
  const mapped: MappedTestProblems = { byField: {}, general: [] };
  for (const item of items) {
    const field = testFieldOf(item.field);
    if (field) (mapped.byField[field] ??= []).push(item);
    else mapped.general.push(item);
  }
  return mapped;
}

/** Digits only: "+55 (11) 99999-0000" is sent as 5511999990000. */
export function normalizeRecipient(raw: string): string {
  return raw.trim().replace(/^\+/, "").replace(/[\s().-]/g, "");
}

export const RECIPIENT = /^[0-9]{8,15}$/;
export const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
export const TEMPLATE_LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
export const TEXT_MAX = 4096;

export const MESSAGE_POLL_MS = 2_000;
/** How long the page follows a message that reached no final state; WhatsApp may still report it later. */
export const MESSAGE_WATCH_MS = 60_000;
const FINAL: ReadonlySet<MessageProgress> = new Set(["DELIVERED", "READ", "PLAYED", "FAILED"]);

/** Delivered (or further), or failed: what a test message has to prove is known. */
export function isFinal(message: MessageStatus | undefined): boolean {
  return message !== undefined && (message.failed || FINAL.has(message.status));
}

/** The next poll of a message's status: every 2 s until it is final, for at most a minute. */
export function nextMessagePoll(message: MessageStatus | undefined, elapsedMs: number): number | false {
  if (isFinal(message) || elapsedMs >= MESSAGE_WATCH_MS) return false;
  return MESSAGE_POLL_MS;
}
