// Every failed answer becomes one ApiError rendered from its problem+json, whatever shape it came in:
// RFC 9457 problem details from our functions, `{"message": "..."}` from API Gateway itself, or anything else.

export interface ProblemItem {
  field: string;
  code: string;
  message: string;
  fix?: string | null;
  meta_code?: number | null;
  meta_subcode?: number | null;
  fbtrace_id?: string | null;
}

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  request_id?: string;
  errors: ProblemItem[];
}

export type ApiErrorKind = "problem" | "gateway" | "network" | "unexpected";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly problem: Problem;
  readonly retryAfterSeconds: number | null;
  readonly etag: string | null;

  constructor(kind: ApiErrorKind, problem: Problem, retryAfterSeconds: number | null = null, etag: string | null = null) {
    super(`${problem.status} ${problem.code}`);
    this.name = "ApiError";
    this.kind = kind;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
    this.etag = etag;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }
}

export function networkError(): ApiError {
  return new ApiError("network", { status: 0, code: "network_error", title: "", detail: "", errors: [] });
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export function errorFromAnswer(status: number, headers: Headers, text: string): ApiError {
  const retryAfter = parseRetryAfter(headers.get("retry-after"));
  const etag = headers.get("etag");
  const body = parseJson(text);
  if (isRecord(body) && typeof body.code === "string") {
    return new ApiError("problem", toProblem(status, body), retryAfter, etag);
  }
  if (isRecord(body) && typeof body.message === "string") {
    const problem = { status, code: `gateway_${status}`, title: body.message, detail: "", errors: [] };
    return new ApiError("gateway", problem, retryAfter, etag);
  }
  return new ApiError("unexpected", { status, code: "unexpected_answer", title: "", detail: "", errors: [] }, retryAfter);
}

function toProblem(status: number, body: Record<string, unknown>): Problem {
  const items = Array.isArray(body.errors) ? body.errors.filter(isRecord).map(toItem) : [];
  return {
    status: typeof body.status === "number" ? body.status : status,
    code: String(body.code),
    title: text(body.title),
    detail: text(body.detail),
    request_id: typeof body.request_id === "string" ? body.request_id : undefined,
    errors: items,
  };
}

function toItem(item: Record<string, unknown>): ProblemItem {
  return {
    field: text(item.field) || "body",
    code: text(item.code) || "invalid",
    message: text(item.message),
    fix: typeof item.fix === "string" ? item.fix : null,
    meta_code: typeof item.meta_code === "number" ? item.meta_code : null,
    meta_subcode: typeof item.meta_subcode === "number" ? item.meta_subcode : null,
    fbtrace_id: typeof item.fbtrace_id === "string" ? item.fbtrace_id : null,
  };
}

/** Only strings are shown, so an unexpected nested object never renders as "[object Object]". */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
