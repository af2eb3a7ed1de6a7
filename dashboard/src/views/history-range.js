// The range of a history load: From and To, presets for the last days, the resolution.
import { times } from "../times.js";

const $ = (id) => document.getElementById(id);

export function rangeView(controls) {
  const start = $("range-start");
  const end = $("range-end");
  const resolution = $("resolution");
  const presets = controls.querySelectorAll("[data-days]");

  for (const button of presets) {
    button.addEventListener("click", () => preset(Number(button.dataset.days)));
  }
  // A range typed in is no preset's any more.
  for (const input of [start, end]) input.addEventListener("input", () => highlight(null));

  function highlight(days) {
    for (const b of presets) b.classList.toggle("active", Number(b.dataset.days) === days);
  }

  function preset(days) {
    const to = new Date();
    const from = new Date(to.getTime() - days * 86400_000);
    start.value = times().toInput(from);
    end.value = times().toInput(to);
    highlight(days);
  }

  return {
    // A first visit opens on the last day; a range already set is kept.
    ensure() {
      if (!start.value) preset(1);
    },
    // A range of the page's own (a zoom): shown in From and To, no preset lit.
    set(from, to) {
      start.value = times().toInput(from);
      end.value = times().toInput(to);
      highlight(null);
    },
    read() {
      return {
        start: times().fromInput(start.value),
        end: times().fromInput(end.value),
        resolution: resolution.value,
      };
    },
  };
}
