import { createContext, useContext } from "react";
import type { ApiClient } from "./api/client";

export interface PageServices {
  api: ApiClient;
  /** Link to the troubleshooting section of a code, or a docs-relative link such as "docs/x.md#y". */
  docsLink: (target: { code?: string; path?: string }) => string;
  announce: (message: string) => void;
  requestLogin: () => void;
}

export const PageContext = createContext<PageServices | null>(null);

export function usePage(): PageServices {
  const value = useContext(PageContext);
  if (!value) throw new Error("usePage outside IntegrationsPage");
  return value;
}

export function docsLinker(docsBaseUrl: string): PageServices["docsLink"] {
  const base = docsBaseUrl.endsWith("/") ? docsBaseUrl : `${docsBaseUrl}/`;
  return ({ code, path }) => {
    if (path) return base + path.replace(/^docs\//, "");
    return `${base}troubleshooting.md#${encodeURIComponent(code ?? "")}`;
  };
}
