import { useState } from "react";
import { IntegrationsPage } from "../IntegrationsPage";
import type { HostConfig } from "./config";
import { parentTokenBridge } from "./tokenBridge";

/** Production: the page inside the SaaS's iframe; the SaaS hands over tokens (see tokenBridge.ts). */
export function EmbeddedHost({ config, locale }: { config: HostConfig; locale?: string }) {
  const [bridge] = useState(() => parentTokenBridge(config.embedderOrigins ?? [], window.parent, window, document.referrer));
  return (
    <IntegrationsPage
      apiBaseUrl={config.apiBaseUrl}
      getAccessToken={bridge.getAccessToken}
      onUnauthorized={bridge.onUnauthorized}
      locale={locale}
      docsBaseUrl={config.docsBaseUrl}
    />
  );
}
