import { ApiError, errorFromAnswer, networkError, parseRetryAfter } from "./problem";

export interface ApiClientOptions {
  baseUrl: string;
  /** Supplied by the host's login; asked before every request so a refreshed token is used at once. */
  getAccessToken: () => string | Promise<string>;
  /** Called on a 401: the host should ask for a new login. */
  onUnauthorized?: () => void;
}

export interface ApiAnswer<T> {
  status: number;
  /** null for 204 and 304 */
  body: T | null;
  etag: string | null;
  retryAfterSeconds: number | null;
}

export interface RequestOptions {
  body?: unknown;
  ifMatch?: string;
  ifNoneMatch?: string;
  signal?: AbortSignal;
}

export type ApiClient = <T>(method: string, path: string, options?: RequestOptions) => Promise<ApiAnswer<T>>;

export function createApiClient({ baseUrl, getAccessToken, onUnauthorized }: ApiClientOptions): ApiClient {
  const root = baseUrl.replace(/\/+$/, "");
  return async function request<T>(method: string, path: string, options: RequestOptions = {}) {
    const headers: Record<string, string> = { Authorization: `Bearer ${await getAccessToken()}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.ifMatch) headers["If-Match"] = options.ifMatch;
    if (options.ifNoneMatch) headers["If-None-Match"] = options.ifNoneMatch;
    let response: Response;
    try {
      response = await fetch(root + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // Our own conditional requests decide what is fresh; the browser cache must not answer for them.
        cache: "no-store",
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw networkError();
    }
    const text = response.status === 204 || response.status === 304 ? "" : await response.text();
    if (!response.ok && response.status !== 304) {
      if (response.status === 401) onUnauthorized?.();
      throw errorFromAnswer(response.status, response.headers, text);
    }
    let body: T | null = null;
    if (text) {
      try {
        body = JSON.parse(text) as T;
      } catch {
        throw errorFromAnswer(response.status, response.headers, text);
      }
    }
    return {
      status: response.status,
      body,
      etag: response.headers.get("etag"),
      retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
    };
  };
}

export { ApiError };
