import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { createApiClient } from "./api/client";
import { shouldRetry } from "./api/queries";
import { docsLinker, PageContext, type PageServices } from "./context";
import { IntegrationDetail } from "./detail/IntegrationDetail";
import { IntegrationForm } from "./form/IntegrationForm";
import { I18nProvider, resolveLocale, useI18n } from "./i18n";
import { IntegrationList } from "./list/IntegrationList";
import { diagnosticsPanel } from "./panels/DiagnosticsPanel";
import type { PanelDefinition } from "./panels/panel";
import { testMessagePanel } from "./panels/TestMessagePanel";
import { webhooksPanel } from "./panels/WebhooksPanel";
import "./styles.css";

export const defaultPanels: readonly PanelDefinition[] = [webhooksPanel, testMessagePanel, diagnosticsPanel];

export interface IntegrationsPageProps {
  /** The API's base URL, e.g. https://api.example.com */
  apiBaseUrl: string;
  /** The host's login supplies the JWT; it is asked before every request and never stored by the page. */
  getAccessToken: () => string | Promise<string>;
  /** "pt-BR" or "en"; the browser's language when left out. */
  locale?: string;
  /** Called when the API answers 401: the host asks the user to sign in again. */
  onUnauthorized?: () => void;
  /** Where docs/troubleshooting.md and its siblings are published. */
  docsBaseUrl?: string;
  panels?: readonly PanelDefinition[];
  /** To share the host's cache; the page makes its own otherwise. */
  queryClient?: QueryClient;
}

function newQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: shouldRetry, staleTime: 5_000 }, mutations: { retry: false } } });
}

export function IntegrationsPage(props: IntegrationsPageProps) {
  const [ownClient] = useState(newQueryClient);
  const locale = resolveLocale(props.locale, typeof navigator === "undefined" ? [] : navigator.languages);
  return (
    <QueryClientProvider client={props.queryClient ?? ownClient}>
      <I18nProvider locale={locale}>
        <Page {...props} />
      </I18nProvider>
    </QueryClientProvider>
  );
}

type View = { kind: "none" } | { kind: "create" } | { kind: "detail"; id: string };

function Page({ apiBaseUrl, getAccessToken, onUnauthorized, docsBaseUrl = "/docs/", panels = defaultPanels }: IntegrationsPageProps) {
  const { t, locale } = useI18n();
  const [view, setView] = useState<View>({ kind: "none" });
  const [announcement, setAnnouncement] = useState("");
  // Hosts pass stable callbacks (useCallback); a new one only rebuilds this small object, not the cache.
  const services = useMemo<PageServices>(
    () => ({
      api: createApiClient({ baseUrl: apiBaseUrl, getAccessToken, onUnauthorized }),
      docsLink: docsLinker(docsBaseUrl),
      announce: setAnnouncement,
      requestLogin: () => onUnauthorized?.(),
    }),
    [apiBaseUrl, docsBaseUrl, getAccessToken, onUnauthorized],
  );
  const openDetail = useCallback((id: string) => setView({ kind: "detail", id }), []);
  const close = useCallback(() => setView({ kind: "none" }), []);

  return (
    <PageContext.Provider value={services}>
      <div className="wi-page" lang={locale}>
        <header className="wi-header">
          <h1>{t("page.title")}</h1>
          <button type="button" className="wi-primary" onClick={() => setView({ kind: "create" })}>
            {t("action.new")}
          </button>
        </header>
        <p className="wi-visually-hidden" aria-live="polite" role="status" data-testid="announcer">
          {announcement}
        </p>
        <div className="wi-columns">
          <section aria-labelledby="wi-list-title" className="wi-list">
            <h2 id="wi-list-title">{t("list.title")}</h2>
            <IntegrationList selectedId={view.kind === "detail" ? view.id : null} onOpen={openDetail} />
          </section>
          {view.kind !== "none" && (
            <div className="wi-side">
              {view.kind === "create" ? (
                <IntegrationForm
                  mode="create"
                  onSaved={(saved) => {
                    setAnnouncement(t("announce.created", { name: saved.body.name }));
                    openDetail(saved.body.id);
                  }}
                  onCancel={close}
                />
              ) : (
                <IntegrationDetail key={view.id} id={view.id} panels={panels} onClose={close} />
              )}
            </div>
          )}
        </div>
      </div>
    </PageContext.Provider>
  );
}
