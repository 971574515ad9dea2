import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { loadConfig, type HostConfig } from "./config";
import { DevHost } from "./DevHost";
import { mintDevToken } from "./devTokens";
import { EmbeddedHost } from "./EmbeddedHost";

const root = createRoot(document.getElementById("root")!);
const query = new URLSearchParams(location.search);
const locale = query.get("locale") ?? undefined;

async function render(config: HostConfig) {
  if (!config.devTokenUrl) {
    root.render(
      <StrictMode>
        <EmbeddedHost config={config} locale={locale} />
      </StrictMode>,
    );
    return;
  }
  const tenant = query.get("tenant") ?? "tenant-demo";
  const session = await mintDevToken(config.devTokenUrl, tenant, false).catch(() => null);
  root.render(
    <StrictMode>
      <DevHost config={config} devTokenUrl={config.devTokenUrl} initialSession={session} locale={locale} />
    </StrictMode>,
  );
}

loadConfig().then(render, () =>
  root.render(<p role="alert">This page is not configured (config.json is missing or invalid).</p>),
);
