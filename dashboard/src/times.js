// The signed-in user's clock (time.js), shared by every view: UTC until /v1/me says.
import { clock } from "./time.js";

let current = clock("UTC");

export const times = () => current;

// A zone this browser does not know (older than the server's zone database) falls back
// to UTC, and the header says so: never a sign-in that fails over a clock.
export function useTimeZone(zone) {
  let note = "";
  try {
    current = clock(zone);
  } catch {
    current = clock("UTC");
    note = ` (${zone} is unknown to this browser)`;
  }
  for (const el of document.querySelectorAll("[data-zone-name]")) el.textContent = current.name() + note;
}
