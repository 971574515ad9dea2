// Production embedding: the SaaS shows this page in an iframe and answers its token requests with postMessage.
// Only the configured embedder origins are asked and believed; the token lives in memory only.

export const TOKEN_REQUEST = "whatsapp-integrations:token-request";
export const TOKEN_ANSWER = "whatsapp-integrations:token";
export const LOGIN_REQUIRED = "whatsapp-integrations:login-required";
const ANSWER_TIMEOUT_MS = 10_000;

export interface TokenBridge {
  getAccessToken: () => Promise<string>;
  onUnauthorized: () => void;
}

export function parentTokenBridge(embedderOrigins: string[], parent: Window, self: Window, referrer: string): TokenBridge {
  const referrerOrigin = referrer ? new URL(referrer).origin : "";
  const parentOrigin = embedderOrigins.includes(referrerOrigin) ? referrerOrigin : embedderOrigins[0];
  let counter = 0;
  return {
    getAccessToken: () =>
      new Promise<string>((resolve, reject) => {
        if (!parentOrigin || parent === self) {
          reject(new Error("not embedded by an allowed origin"));
          return;
        }
        const id = `${Date.now()}-${counter++}`;
        const timer = setTimeout(() => finish(() => reject(new Error("no token from the embedding page"))), ANSWER_TIMEOUT_MS);
        const listen = (event: MessageEvent) => {
          const data = event.data as { type?: unknown; id?: unknown; token?: unknown } | null;
          if (event.source !== parent || !embedderOrigins.includes(event.origin)) return;
          if (data?.type !== TOKEN_ANSWER || data.id !== id || typeof data.token !== "string") return;
          const token = data.token;
          finish(() => resolve(token));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          self.removeEventListener("message", listen);
          settle();
        };
        self.addEventListener("message", listen);
        parent.postMessage({ type: TOKEN_REQUEST, id }, parentOrigin);
      }),
    onUnauthorized: () => {
      if (parentOrigin && parent !== self) parent.postMessage({ type: LOGIN_REQUIRED }, parentOrigin);
    },
  };
}
