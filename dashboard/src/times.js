// The signed-in user's clock (time.js), shared by every view: UTC until /v1/me says.
import { clock } from "./time.js";
import { currentLocale, t } from "./i18n.js";

let current = clock("UTC");

export const times = () => current;

// A zone this browser does not know (older than the server's zone database) falls back
// to UTC, and the header says so: never a sign-in that fails over a clock.
export function useTimeZone(zone) {
  let note = "";
  try {
    current = clock(zone, currentLocale());
  } catch {
    current = clock("UTC", currentLocale());
    note = t("zone.unknown", { zone });
  }
  for (const el of document.querySelectorAll("[data-zone-name]")) el.textContent = current.name() + note;
  // The CSV's times: UTC, or the user's zone (a choice only when that is not UTC).
  for (const option of document.querySelectorAll("[data-zone-option]")) {
    option.value = option.textContent = current.zone;
    option.hidden = current.zone === "UTC";
  }
}
