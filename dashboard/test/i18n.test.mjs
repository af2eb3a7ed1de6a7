// The string catalogues: every language has every key with the same placeholders, every
// key the page uses exists, no words are left in the code, and the pure choices
// (which language, which locale, which plural) are right.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CATALOGUES, localeFor, pickLanguage, t, translate, useLanguage } from "../src/i18n.js";
import en from "../src/i18n/en.js";
import { ago } from "../src/logic.js";
import { count, duration } from "../src/operations.js";

const SRC = new URL("../src/", import.meta.url).pathname;
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const forms = (entry) => (typeof entry === "object" ? Object.values(entry) : [entry]);

function sources(dir = SRC) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "i18n" ? [] : sources(path);
    return name.endsWith(".js") ? [path] : [];
  });
}

test("every language has every key, with the same placeholders", () => {
  const html = readFileSync(join(SRC, "index.html"), "utf8");
  const offered = [...html.matchAll(/data-language="(\w+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(CATALOGUES).sort(), offered); // a button per catalogue
  for (const [language, catalogue] of Object.entries(CATALOGUES)) {
    assert.deepEqual(Object.keys(catalogue).sort(), Object.keys(en).sort(), language);
    for (const [key, entry] of Object.entries(catalogue)) {
      const wanted = placeholders(forms(en[key]).at(-1));
      for (const text of forms(entry)) {
        assert.equal(typeof text, "string", `${language} ${key}`);
        assert.ok(text.length, `${language} ${key} is empty`);
        assert.deepEqual(placeholders(text), wanted, `${language} ${key}: ${text}`);
      }
    }
  }
});

test("every key the page names is in the catalogue", () => {
  const html = readFileSync(join(SRC, "index.html"), "utf8");
  const named = [...html.matchAll(/data-i18n(?:-[\w-]+)?="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(named.length > 50, `only ${named.length} keys in index.html`);
  for (const code of sources()) {
    const text = readFileSync(code, "utf8");
    named.push(...[...text.matchAll(/\bt\("([\w.]+)"/g)].map((m) => m[1]));
    // t(`health.${state}`): the prefix must have entries
    for (const m of text.matchAll(/\bt\(`([\w.]+)\$\{/g)) {
      assert.ok(Object.keys(en).some((k) => k.startsWith(m[1])), `${code}: ${m[1]}…`);
    }
  }
  for (const key of named) assert.ok(key in en, `"${key}" is not in the catalogue`);
});

// A literal of two or more words ("Sign-in refused", "Download CSV"), or a capitalised
// word the English catalogue has ("Load"): words for a person to read. Identifiers stay
// (no-store, aria-label, a status such as "cancelled"). Before this test the code held 47.
const WORD = "[A-Za-z][a-z…]*(?:-[A-Za-z][a-z]*)*";
const PROSE = new RegExp(`^${WORD}(?:[ ,'’]+${WORD})+`);
const WORDS = new Set(
  Object.values(en)
    .flatMap((e) => (typeof e === "object" ? Object.values(e) : [e]))
    .filter((text) => /^[A-Z][a-z]{2,}/.test(text)),
);

test("no words for the user are left in the code", () => {
  const found = [];
  for (const code of sources()) {
    const text = readFileSync(code, "utf8")
      .replace(/^\s*\/\/.*$/gm, "") // comments: whole lines
      .replace(/\s\/\/ .*$/gm, ""); // and line ends
    for (const m of text.matchAll(/"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
      const literal = (m[1] ?? m[2]).replace(/\$\{[^}]*\}/g, "");
      const bare = literal.trim();
      if (PROSE.test(bare) || WORDS.has(bare)) found.push(`${code.slice(SRC.length)}: ${literal}`);
    }
  }
  assert.deepEqual(found, []);
});

test("the language: the user's setting, else the browser's pick, else its preference", () => {
  assert.equal(pickLanguage("id", "en", ["en-US"]), "id");
  assert.equal(pickLanguage(null, "id", ["en-US"]), "id");
  assert.equal(pickLanguage(null, null, ["fr-FR", "id-ID", "en"]), "id");
  assert.equal(pickLanguage(null, "xx", ["ID"]), "id");
  assert.equal(pickLanguage(null, null, ["fr-FR"]), "en");
  assert.equal(pickLanguage(undefined, undefined), "en");
  assert.equal(pickLanguage("constructor", "toString", ["__proto__"]), "en"); // no prototype keys
  assert.equal(pickLanguage(null, null, ["in-ID"]), "id"); // Indonesian's old tag
});

test("numbers and dates follow the browser's variant of the language", () => {
  assert.equal(localeFor("en", ["en-GB", "id-ID"]), "en-GB");
  assert.equal(localeFor("id", ["en-GB", "id-ID"]), "id-ID");
  assert.equal(localeFor("id", ["en-US"]), "id-ID");
  assert.equal(localeFor("en", ["id-ID"]), "en");
});

test("plurals and placeholders", () => {
  assert.equal(translate(en, "en", "ago.days", { n: 1 }), "1 day ago");
  assert.equal(translate(en, "en", "ago.days", { n: 4 }), "4 days ago");
  assert.equal(translate(CATALOGUES.id, "id-ID", "ago.days", { n: 4 }), "4 hari lalu");
  assert.equal(translate(CATALOGUES.id, "id-ID", "no.such.key"), "no.such.key");
  assert.equal(translate({}, "en", "history.load"), "Load"); // a missing key falls back to English
});

test("the page's words and numbers in Indonesian", () => {
  useLanguage("id", ["id-ID"]);
  try {
    assert.equal(ago(3 * 3600_000), "3 jam lalu");
    assert.equal(duration(185), "3 mnt 5 dtk");
    assert.equal(count(1234567), "1.234.567");
    assert.equal(t("job.running", { percent: 58, rows: 12345 }), "berjalan: 58 % (12.345 baris)");
  } finally {
    useLanguage("en");
  }
  assert.equal(count(1234567), "1,234,567");
});
