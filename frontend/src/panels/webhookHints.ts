// What the Webhooks panel says about the relay, apart from its rendering.
import type { ConnectionStatus } from "../api/types";
import type { MessageKey } from "../i18n";

/** Like the diagnostics' traffic checks: a webhook older than a day is worth a word. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;
/** The last error codes that say Meta's override for the number is not (or no longer) ours. */
const OVERRIDE_PROBLEMS: ReadonlySet<string> = new Set(["webhook_override_taken", "webhook_override_not_applied"]);

export type Delivery = "ours" | "elsewhere" | "not_wired";

export interface Hint {
  key: MessageKey;
  /** A section of the docs (a troubleshooting code, or a docs-relative path), and the link's own words. */
  link: { code?: string; path?: string };
  linkLabel: MessageKey;
}

/** Where Meta delivers this number's webhooks, as far as the status tells. */
export function delivery(status: Pick<ConnectionStatus, "webhooks" | "last_error">): Delivery {
  if (status.last_error && OVERRIDE_PROBLEMS.has(status.last_error.code)) return "elsewhere";
  return status.webhooks.meta_callback_url ? "ours" : "not_wired";
}

type Age = "never" | "stale" | "fresh";

function age(at: string | null, now: number): Age {
  if (!at) return "never";
  return now - Date.parse(at) > STALE_AFTER_MS ? "stale" : "fresh";
}

/** Plain-language hints: what is missing or quiet, and what to do about it; none when all is well. */
export function webhookHints(status: Pick<ConnectionStatus, "status" | "webhooks" | "last_error">, now: number): Hint[] {
  const hints: Hint[] = [];
  const connected = status.status === "connected";
  const where = delivery(status);
  if (where === "elsewhere") {
    hints.push({ key: "webhooks.hint.elsewhere", link: { code: status.last_error?.code }, linkLabel: "webhooks.link.override" });
  } else if (where === "not_wired") {
    const key: MessageKey = connected
      ? "webhooks.hint.not_wired_connected"
      : status.status === "connecting"
        ? "webhooks.hint.not_wired_connecting"
        : "webhooks.hint.not_wired";
    hints.push({ key, link: { path: "docs/troubleshooting.md#check-waba-webhook_override" }, linkLabel: "webhooks.link.override" });
  }
  if (where === "ours") {
    const meta = age(status.webhooks.last_meta_event_at, now);
    if (meta !== "fresh") {
      hints.push({
        key: `webhooks.hint.meta_${meta}`,
        link: { path: "docs/troubleshooting.md#check-traffic-meta_events" },
        linkLabel: "webhooks.link.meta_events",
      });
    }
  }
  if (connected) {
    const evolution = age(status.webhooks.last_evolution_event_at, now);
    if (evolution !== "fresh") {
      hints.push({
        key: `webhooks.hint.evolution_${evolution}`,
        link: { path: "docs/troubleshooting.md#check-traffic-evolution_events" },
        linkLabel: "webhooks.link.evolution_events",
      });
    }
  }
  return hints;
}
