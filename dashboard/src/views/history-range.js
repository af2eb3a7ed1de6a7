// The range of a history load: From and To, presets for the last days, the resolution.
import { localInput } from "../logic.js";

const $ = (id) => document.getElementById(id);

export function rangeView(controls) {
  const start = $("range-start");
  const end = $("range-end");
  const resolution = $("resolution");
  const presets = controls.querySelectorAll("[data-days]");

  for (const button of presets) {
    button.addEventListener("click", () => preset(Number(button.dataset.days)));
  }

  function preset(days) {
    const to = new Date();
    const from = new Date(to.getTime() - days * 86400_000);
    start.value = localInput(from);
    end.value = localInput(to);
    for (const b of presets) b.classList.toggle("active", Number(b.dataset.days) === days);
  }

  return {
    // A first visit opens on the last day; a range already set is kept.
    ensure() {
      if (!start.value) preset(1);
    },
    read() {
      return {
        start: new Date(start.value),
        end: new Date(end.value),
        resolution: resolution.value,
      };
    },
  };
}
