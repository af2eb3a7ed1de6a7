// The page's words: one catalogue per language (i18n/en.js, i18n/id.js), the language
// chosen (the user's setting, else this browser's pick, else its preference, else
// English), and the locale numbers and dates are written in. Pure but for `translatePage`.
import en from "./i18n/en.js";
import id from "./i18n/id.js";

// Each language's catalogue; index.html's language buttons name each in its own words.
export const CATALOGUES = { en, id };

let language = "en";
let locale = "en";

// The language to show: the user's setting, else the one picked on this browser, else the
// first of the browser's preferences we speak, else English.
export function pickLanguage(setting, picked, preferences = []) {
  for (const candidate of [setting, picked]) if (speaks(candidate)) return candidate;
  for (const tag of preferences) {
    const base = baseOf(tag);
    if (speaks(base)) return base;
  }
  return "en";
}

const speaks = (code) => typeof code === "string" && Object.hasOwn(CATALOGUES, code);
// "id-ID" -> "id"; "in" is Indonesian's old tag (some Android browsers still send it).
const baseOf = (tag) => {
  const base = String(tag).toLowerCase().split("-")[0];
  return base === "in" ? "id" : base;
};

// The locale of `lang`'s numbers and dates: the browser's own variant of it (en-GB writes
// 1/12/2026, en-US 12/1/2026), else the language's usual one.
export function localeFor(lang, preferences = []) {
  const own = preferences.find((tag) => baseOf(tag) === lang && !String(tag).toLowerCase().startsWith("in"));
  return own ?? (lang === "id" ? "id-ID" : "en");
}

// `catalogue[key]` with its {placeholders} filled; a {one, other} entry is chosen by the
// plural rules of `localeTag` for `params.n`. A key the catalogue lacks falls back to
// English, then to the key itself (test/i18n.test.mjs keeps both from happening).
export function translate(catalogue, localeTag, key, params = {}) {
  let entry = (Object.hasOwn(catalogue, key) ? catalogue[key] : Object.hasOwn(en, key) ? en[key] : null) ?? key;
  if (typeof entry === "object") {
    const form = new Intl.PluralRules(localeTag).select(Number(params.n ?? 0));
    entry = entry[form] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? format(params[name]) : whole));
}

// Numbers in a text are the locale's (1.234.567 in Indonesian).
function format(value) {
  return typeof value === "number" ? value.toLocaleString(locale) : String(value);
}

export const t = (key, params) => translate(CATALOGUES[language], locale, key, params);
// Whether the catalogues have words for `key` (a default sensor's name, say).
export const known = (key) => Object.hasOwn(CATALOGUES[language], key) || Object.hasOwn(en, key);
export const currentLanguage = () => language;
export const currentLocale = () => locale;

export function useLanguage(lang, preferences = []) {
  language = speaks(lang) ? lang : "en";
  locale = localeFor(language, preferences);
}

// The page's own words (index.html): `data-i18n` names the key of an element's text,
// `data-i18n-<attribute>` that of an attribute (aria-label, placeholder, title).
export function translatePage(root) {
  root.documentElement?.setAttribute("lang", language);
  for (const el of root.querySelectorAll("*")) {
    for (const name of el.getAttributeNames()) {
      if (!name.startsWith("data-i18n")) continue;
      const key = el.getAttribute(name);
      if (name === "data-i18n") el.textContent = t(key);
      else el.setAttribute(name.slice("data-i18n-".length), t(key));
    }
  }
}
