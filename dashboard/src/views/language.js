// The page's language: the header's buttons, the user's setting (GET /v1/me), the pick
// remembered by this browser, and its own preferences, in that order (i18n.js). A pick
// is saved as the user's setting (signed out: this browser's) and the page reloads in
// it, so no text outlives it; the focus comes back to the button pressed. Buttons, not
// a menu: a reload is a change of context, which a press asks for and a menu's arrow
// keys must not cause (WCAG 3.2.2).
import { currentLanguage, pickLanguage, t, translatePage, useLanguage } from "../i18n.js";
import { useTimeZone } from "../times.js";

const PICK_KEY = "scada.language";
const FOCUS_KEY = "scada.focus-language";
const preferences = () => [...(navigator.languages ?? [navigator.language])];

export function languageView() {
  const buttons = [...document.querySelectorAll("#language [data-language]")];
  const status = document.getElementById("language-status");
  let api = null; // once signed in, a pick is the user's setting
  let zone = "UTC";

  for (const button of buttons) button.addEventListener("click", () => choose(button.dataset.language));

  function apply(setting) {
    useLanguage(pickLanguage(setting, localStorage.getItem(PICK_KEY), preferences()), preferences());
    translatePage(document);
    useTimeZone(zone); // dates in the language's locale
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.language === currentLanguage()));
  }

  // Before sign-in: this browser's pick or preference.
  function start() {
    apply(null);
  }

  // Signed in: the user's setting (null: none) decides, and a pick is saved as theirs.
  function signedIn(signedInApi, me) {
    api = signedInApi;
    zone = me.time_zone;
    apply(me.language);
  }

  async function choose(language) {
    if (language === currentLanguage()) return;
    for (const b of buttons) b.disabled = true; // one pick at a time
    if (api) {
      try {
        await api.request("PATCH", "/v1/me", { language });
      } catch (error) {
        for (const b of buttons) b.disabled = false;
        status.textContent = t("header.language_not_saved", { message: error.message });
        return;
      }
    }
    localStorage.setItem(PICK_KEY, language); // only once the user's setting has it
    sessionStorage.setItem(FOCUS_KEY, language);
    location.reload();
  }

  // After the reload a pick caused, the keyboard is back on the button pressed; true if so.
  function restoreFocus() {
    const pressed = sessionStorage.getItem(FOCUS_KEY);
    if (!pressed) return false;
    sessionStorage.removeItem(FOCUS_KEY);
    const button = buttons.find((b) => b.dataset.language === pressed);
    button?.focus();
    return Boolean(button);
  }

  return { start, signedIn, restoreFocus };
}
