import { createContext, useContext, useMemo, type ReactNode } from "react";
import { en, type MessageKey } from "./en";
import { ptBR } from "./pt-BR";

export type { MessageKey };
export type Locale = "en" | "pt-BR";
export const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, "pt-BR": ptBR };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The `locale` prop wins; otherwise the browser's first language we have; otherwise English. */
export function resolveLocale(requested: string | undefined, browserLanguages: readonly string[]): Locale {
  for (const candidate of requested ? [requested] : browserLanguages) {
    const language = candidate.toLowerCase();
    if (language.startsWith("pt")) return "pt-BR";
    if (language.startsWith("en")) return "en";
  }
  return "en";
}

export function translator(locale: Locale): Translate {
  const catalogue = CATALOGUES[locale];
  return (key, params) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      params && name in params ? String(params[name]) : whole,
    );
}

interface I18n {
  locale: Locale;
  t: Translate;
  formatTime: (iso: string | null | undefined) => string;
  /** A wait in words: "45 s", or whole minutes (rounded up) from two minutes on. */
  formatWait: (seconds: number) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  const value = useMemo<I18n>(() => {
    const t = translator(locale);
    const format = new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "medium" });
    return {
      locale,
      t,
      formatTime: (iso) => (iso ? format.format(new Date(iso)) : t("common.never")),
      formatWait: (seconds) =>
        seconds < 120 ? t("common.seconds", { count: seconds }) : t("common.minutes", { count: Math.ceil(seconds / 60) }),
    };
  }, [locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
