import { useCallback, useRef, useState, type FormEvent } from "react";
import { IntegrationsPage } from "../IntegrationsPage";
import type { HostConfig } from "./config";
import { mintDevToken, type DevToken } from "./devTokens";

interface Props {
  config: HostConfig;
  devTokenUrl: string;
  initialSession: DevToken | null;
  locale?: string;
}

const MINT_FAILED = "Could not mint a development token: is `make dev` running?";

/** `make dev`: a tenant picker that mints development JWTs, standing in for the SaaS's login. */
export function DevHost({ config, devTokenUrl, initialSession, locale: initialLocale }: Props) {
  const [tenant, setTenant] = useState(initialSession?.tenant ?? "tenant-demo");
  const [readOnly, setReadOnly] = useState(false);
  const [locale, setLocale] = useState(initialLocale ?? "");
  const [session, setSession] = useState<DevToken | null>(initialSession);
  const [expired, setExpired] = useState(false);
  const [failure, setFailure] = useState(initialSession ? "" : MINT_FAILED);
  const token = useRef<string | null>(initialSession?.token ?? null);

  const signIn = useCallback(
    async (who: string, viewOnly: boolean) => {
      try {
        const minted = await mintDevToken(devTokenUrl, who, viewOnly);
        token.current = minted.token;
        setSession(minted);
        setExpired(false);
        setFailure("");
      } catch {
        setFailure(MINT_FAILED);
      }
    },
    [devTokenUrl],
  );
  const getAccessToken = useCallback(() => token.current ?? "", []);
  const onUnauthorized = useCallback(() => setExpired(true), []);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void signIn(tenant.trim() || "tenant-demo", readOnly);
  };

  return (
    <>
      <form className="wi-dev-bar" onSubmit={onSubmit} aria-label="Development sign-in">
        <strong>Local development</strong>
        <label>
          Tenant{" "}
          <input value={tenant} onChange={(event) => setTenant(event.target.value)} list="wi-dev-tenants" name="tenant" />
        </label>
        <datalist id="wi-dev-tenants">
          {(config.devTenants ?? []).map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <label>
          <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.target.checked)} /> Read-only
        </label>
        <label>
          Language{" "}
          <select value={locale} onChange={(event) => setLocale(event.target.value)} name="locale">
            <option value="">Browser</option>
            <option value="en">English</option>
            <option value="pt-BR">Português (Brasil)</option>
          </select>
        </label>
        <button type="submit">Sign in</button>
        {session && <span>Signed in to {session.tenant}</span>}
        {expired && <span role="alert">The token was refused: sign in again.</span>}
        {failure && <span role="alert">{failure}</span>}
      </form>
      {session && (
        <IntegrationsPage
          key={`${session.tenant}:${session.mintedAt}`}
          apiBaseUrl={config.apiBaseUrl}
          getAccessToken={getAccessToken}
          onUnauthorized={onUnauthorized}
          locale={locale || undefined}
          docsBaseUrl={config.docsBaseUrl}
        />
      )}
    </>
  );
}
