// The page's language: the header's menu, the user's setting (GET /v1/me), the pick
// remembered by this browser, and its own preferences, in that order (i18n.js). A new
// pick is saved as the user's setting and the page reloads in it: no text outlives it.
import { currentLanguage, pickLanguage, t, translatePage, useLanguage } from "../i18n.js";
import { useTimeZone } from "../times.js";

const PICK_KEY = "scada.language";
const preferences = () => [...(navigator.languages ?? [navigator.language])];

export function languageView() {
  const menu = document.getElementById("language");
  let api = null; // once signed in, a pick is the user's setting
  let zone = "UTC";

  menu.addEventListener("change", () => choose(menu.value));

  function apply(setting) {
    useLanguage(pickLanguage(setting, localStorage.getItem(PICK_KEY), preferences()), preferences());
    translatePage(document);
    useTimeZone(zone); // dates in the language's locale
    menu.value = currentLanguage();
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
    localStorage.setItem(PICK_KEY, language);
    if (api) {
      try {
        await api.request("PATCH", "/v1/me", { language });
      } catch (error) {
        menu.value = currentLanguage();
        menu.title = t("header.language_not_saved", { message: error.message });
        return;
      }
    }
    location.reload();
  }

  return { start, signedIn };
}
