// Renders a piece of the page with its providers and a scripted fetch, for the component tests.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";
import { createApiClient } from "../api/client";
import { docsLinker, PageContext, type PageServices } from "../context";
import { I18nProvider, type Locale } from "../i18n";

export interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

type Answer = Response | (() => Response) | Promise<Response>;
export type Script = (call: Call) => Answer | undefined;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const contentType = status >= 400 && body && typeof body === "object" && "code" in body ? "application/problem+json" : "application/json";
  return new Response(status === 204 || status === 304 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": contentType, ...headers },
  });
}

/** A fetch that answers from `script` and records every call (headers lower-cased). */
export function scriptedFetch(script: Script) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const call: Call = {
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      headers,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const answer = script(call);
    if (answer === undefined) throw new TypeError("Failed to fetch"); // like a network failure
    return typeof answer === "function" ? answer() : answer;
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export function renderWithPage(ui: ReactNode, { locale = "en", onUnauthorized = vi.fn() }: { locale?: Locale; onUnauthorized?: () => void } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const announce = vi.fn();
  const services: PageServices = {
    api: createApiClient({ baseUrl: "https://api.test", getAccessToken: () => "test-token", onUnauthorized }),
    docsLink: docsLinker("/docs/"),
    announce,
    requestLogin: onUnauthorized,
  };
  const view = render(
    <QueryClientProvider client={queryClient}>
      <I18nProvider locale={locale}>
        <PageContext.Provider value={services}>{ui}</PageContext.Provider>
      </I18nProvider>
    </QueryClientProvider>,
  );
  return { ...view, queryClient, announce, onUnauthorized };
}

export const INTEGRATION = {
  id: "7f1c2a9e-0000-4000-8000-000000000001",
  name: "Main number",
  phone_number_id: "100000000000001",
  waba_id: "200000000000001",
  app_id: "300000000000001",
  token_fingerprint: "…0000 (sha256:706c4b0c)",
  has_app_secret: true,
  status: "validated" as const,
  phone_profile: { display_phone_number: "+1 555-010-0001", verified_name: "Demo Shop 1", quality_rating: "GREEN" },
  token_facts: { type: "SYSTEM_USER", app_id: "300000000000001", expires_at: null, scopes: [] },
  warnings: [],
  version: 1,
  created_at: "2026-11-29T09:00:00Z",
  updated_at: "2026-11-29T09:00:00Z",
  status_changed_at: "2026-11-29T09:00:00Z",
  last_error: null,
  last_checked_at: null,
};

export function statusBody(status: string, extra: Record<string, unknown> = {}) {
  return {
    id: INTEGRATION.id,
    status,
    status_changed_at: "2026-11-29T09:00:00Z",
    pending_operation: null,
    last_error: null,
    evolution: { instance_name: null, state: null },
    last_checked_at: null,
    version: 1,
    history: [],
    webhooks: { meta_callback_url: null, last_meta_event_at: null, last_evolution_event_at: null },
    ...extra,
  };
}
