// The organisation's sensor catalogue as the page uses it (GET /v1/sensors): what to
// call a sensor, its unit, how it aggregates. Pure: unit-tested in test/.
import { currentLocale, known, t } from "./i18n.js";

// `entries`: the API's sensors. Returns sensor -> description; a sensor not in it is
// described by its own name, as "unknown". A default entry is named in the page's
// language; an organisation's own entry by the name it gave.
export function catalogue(entries) {
  const byName = new Map(entries.map((e) => [e.name, e]));
  return (sensor) => {
    const e = byName.get(sensor);
    const unit = e?.unit ?? "";
    let name = e && e.source !== "unknown" ? e.display_name : sensor;
    if (e?.source === "default" && known(`sensor.${sensor}`)) name = t(`sensor.${sensor}`);
    return {
      sensor,
      name,
      unit,
      label: unit ? `${name} (${unit})` : name,
      kind: e && e.source !== "unknown" ? e.kind : "unknown",
      decimals: e?.decimals ?? 2,
      validMin: e?.valid_min ?? null,
      validMax: e?.valid_max ?? null,
    };
  };
}

// What an aggregated bucket of this kind draws: the result's `value` (sum, vector mean,
// rate) as bars, points or a line, and whether a min-max band makes sense.
export function drawing(kind, aggregated) {
  if (kind === "accumulation") return { style: "bars", band: false, column: aggregated ? "value" : "values" };
  if (kind === "angle") return { style: "points", band: false, column: aggregated ? "value" : "values" };
  if (kind === "counter" || kind === "state") {
    return { style: "line", band: false, column: aggregated ? "value" : "values" };
  }
  return aggregated ? { style: "line", band: true, column: "avg" } : { style: "line", band: false, column: "values" };
}

// The values of `values` outside the description's valid range (stored, shown, flagged).
export function outOfRange(description, values) {
  const { validMin, validMax } = description;
  return values.map((v) =>
    v !== null && v !== undefined && ((validMin !== null && v < validMin) || (validMax !== null && v > validMax))
      ? v
      : null,
  );
}

// A value as the catalogue says to show it: its decimals and unit.
export function formatValue(description, value) {
  if (value === null || value === undefined) return "—";
  const text = value.toLocaleString(currentLocale(), {
    minimumFractionDigits: description.decimals,
    maximumFractionDigits: description.decimals,
  });
  return description.unit ? `${text} ${description.unit}` : text;
}
