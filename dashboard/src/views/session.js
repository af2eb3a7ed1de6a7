// Signing in and out. The token is checked against /v1/me before the app is shown, and
// kept in sessionStorage: gone with the tab, never in a URL.
import { Api, ApiError } from "../api.js";
import { t } from "../i18n.js";

const TOKEN_KEY = "scada.token";
const $ = (id) => document.getElementById(id);

// Reloading is the sign-out: no view's state, stream or timer outlives it.
export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

// `onSignedIn(api, me)` starts the app (`me`: GET /v1/me); if it throws, the sign-in counts as failed.
// `onMe(api, me)` comes first: the page takes the user's language and zone before any view
// writes a word.
// `focus()` puts the keyboard where the work starts once signed in.
export function sessionView({ onMe, onSignedIn, focus }) {
  const form = $("sign-in-form");
  const token = $("token");
  const error = $("sign-in-error");
  const who = $("who");
  const out = $("sign-out");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await signIn(token.value.trim());
  });
  out.addEventListener("click", () => signOut());

  async function signIn(value) {
    if (!value) return;
    const api = new Api(value);
    try {
      const me = await api.get("/v1/me");
      sessionStorage.setItem(TOKEN_KEY, value);
      token.value = "";
      error.hidden = true;
      form.hidden = true;
      $("app").hidden = false;
      who.hidden = out.hidden = false;
      who.textContent = `${me.name} · ${me.org_id}`;
      onMe(api, me);
      $("zone").hidden = false;
      await onSignedIn(api, me);
      focus(); // the keyboard starts where the work does, not on <body>
    } catch (failure) {
      sessionStorage.removeItem(TOKEN_KEY);
      showError(failure);
    }
  }

  function showError(failure) {
    error.hidden = false;
    error.textContent =
      failure instanceof ApiError && failure.status === 401
        ? t("sign_in.refused", { message: failure.message })
        : t("sign_in.unreachable", { message: failure.message });
  }

  // A reload keeps the tab's session: sign in again with the token it saved. True if
  // there was one.
  function resume() {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
    return Boolean(saved);
  }

  return { resume };
}
