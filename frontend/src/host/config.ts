/** config.json beside index.html: written by local/page.py for `make dev`, by the deploy step in production. */
export interface HostConfig {
  apiBaseUrl: string;
  /** Local only: where the tenant picker mints development JWTs. */
  devTokenUrl?: string;
  devTenants?: string[];
  /** Production: the SaaS origins allowed to embed this page in an iframe and hand it tokens. */
  embedderOrigins?: string[];
  docsBaseUrl?: string;
}

export async function loadConfig(): Promise<HostConfig> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as HostConfig;
  if (typeof config.apiBaseUrl !== "string") throw new Error("config.json: apiBaseUrl missing");
  return config;
}
