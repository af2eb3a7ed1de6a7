// The sensor checkboxes of the station shown, and which of them are chosen.
import { defaultSensors, sensorsFor } from "../logic.js";
import { t } from "../i18n.js";

// `describe(sensor)` names a sensor as the catalogue does (with its unit).
export function sensorsView({ onChange, describe }) {
  const fieldset = document.getElementById("sensors");
  const legend = fieldset.querySelector("legend");
  let chosen = [];

  // Another station: keep what it shares with the choice so far.
  function show(known) {
    chosen = sensorsFor(chosen, known);
    render(known);
  }

  // The station shown turned out to have more sensors (a live reading named a new one).
  function learn(known) {
    if (!chosen.length) chosen = defaultSensors(known);
    render(known);
  }

  function render(known) {
    const boxes = known.map((sensor) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = sensor;
      box.setAttribute("data-testid", `sensor-${sensor}`);
      box.checked = chosen.includes(sensor);
      box.addEventListener("change", () => {
        chosen = [...fieldset.querySelectorAll("input:checked")].map((b) => b.value);
        onChange();
      });
      const { label: text, kind } = describe(sensor);
      label.append(box, " ", text);
      if (kind === "unknown") {
        const note = document.createElement("span");
        note.className = "unknown";
        note.textContent = t("sensors.not_catalogued");
        label.append(note);
      }
      return label;
    });
    fieldset.replaceChildren(legend, ...boxes);
    if (!known.length) fieldset.append(t("sensors.none_yet"));
  }

  return { show, learn, chosen: () => chosen };
}
