import { CATALOGUES, resolveLocale, translator } from ".";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe("the catalogues", () => {
  it("have the same keys in pt-BR and en, none empty, with the same placeholders", () => {
    // Given both catalogues
    const en = CATALOGUES.en;
    const pt = CATALOGUES["pt-BR"];
    // Then they have exactly the same keys
    expect(Object.keys(pt).sort()).toEqual(Object.keys(en).sort());
    // And every string is filled in and keeps the placeholders of its English original
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(pt[key].trim(), key).not.toBe("");
      expect(placeholders(pt[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("take the locale from the prop first, then the browser, then English", () => {
    expect(resolveLocale("pt-BR", ["en-US"])).toBe("pt-BR");
    expect(resolveLocale(undefined, ["pt-PT", "en"])).toBe("pt-BR");
    expect(resolveLocale(undefined, ["de-DE", "en-GB"])).toBe("en");
    expect(resolveLocale(undefined, ["fr"])).toBe("en");
  });

  it("fill in placeholders", () => {
    expect(translator("pt-BR")("error.meta_unavailable", { seconds: 7 })).toBe(
      "A Meta está inacessível, nada foi salvo, tente de novo em 7 s.",
    );
  });
});
