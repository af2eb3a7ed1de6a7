// The operations view's pure logic: Prometheus series from GET /v1/operations made
// ready for uPlot, and the figures put in words. No DOM; unit-tested in test/.
import { currentLocale, t } from "./i18n.js";

// [{labels, points: [[t, v], ...]}] -> {xs, columns: [{label, values}]}, on the union
// of the series' timestamps (a series missing a step gets a gap there, not a zero).
export function alignPromSeries(series, labelOf) {
  const times = new Set();
  for (const s of series) for (const [at] of s.points) times.add(at);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const values = new Array(xs.length).fill(null);
    for (const [at, v] of s.points) values[index.get(at)] = v;
    return { label: labelOf(s.labels), values };
  });
  return { xs, columns };
}

// "0 s", "42 s", "3 min 5 s", "2 h 10 min", "—" for no value.
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return t("duration.seconds", { s });
  if (s < 3600) return t("duration.minutes", { m: Math.floor(s / 60), s: s % 60 });
  return t("duration.hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

// 1234567 -> "1,234,567" (in the page's locale: "1.234.567" in Indonesian); null -> "—".
export function count(value) {
  if (value === null || value === undefined) return "—";
  return Math.round(value).toLocaleString(currentLocale());
}

// The partitions worth an operator's eye first: most seconds behind, then most messages.
export function byLag(a, b) {
  return (b.seconds ?? 0) - (a.seconds ?? 0) || (b.messages ?? 0) - (a.messages ?? 0) ||
    a.group.localeCompare(b.group) || a.partition - b.partition;
}
