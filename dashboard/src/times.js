// The signed-in user's clock (time.js), shared by every view: UTC until /v1/me says.
import { clock } from "./time.js";

let current = clock("UTC");

export const times = () => current;

export function useTimeZone(zone) {
  current = clock(zone);
  for (const el of document.querySelectorAll("[data-zone-name]")) el.textContent = current.name();
}
