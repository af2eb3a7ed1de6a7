// The dashboard's pure logic: no DOM, no network. Unit-tested with `node --test` (test/).
import { t } from "./i18n.js";

// Server-Sent Events: complete events (a blank line ends each) out of `buffer`, and the
// incomplete rest, to be continued by the next chunk the stream delivers.
export function splitEvents(buffer) {
  const events = [];
  let end;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const event = parseEvent(buffer.slice(0, end));
    buffer = buffer.slice(end + 2);
    if (event) events.push(event);
  }
  return { events, rest: buffer };
}

export function parseEvent(block) {
  const event = { event: "message", data: "", id: null };
  let hasData = false;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
    else if (field === "data") {
      event.data += (hasData ? "\n" : "") + value;
      hasData = true;
    }
  }
  return hasData ? event : null;
}

export const HEALTH_ORDER = { live: 0, late: 1, silent: 2, no_data: 3 };
export const byHealth = (a, b) =>
  HEALTH_ORDER[a.health] - HEALTH_ORDER[b.health] || a.station_id.localeCompare(b.station_id);
// Trouble first: silent, then late, then never heard from, then live.
export const TROUBLE_ORDER = { silent: 0, late: 1, no_data: 2, live: 3 };
export const byTrouble = (a, b) =>
  TROUBLE_ORDER[a.health] - TROUBLE_ORDER[b.health] || a.station_id.localeCompare(b.station_id);

// How many stations are in each state: {live, late, silent, no_data}.
export function countByHealth(stations) {
  const counts = { live: 0, late: 0, silent: 0, no_data: 0 };
  for (const s of stations) counts[s.health] = (counts[s.health] ?? 0) + 1;
  return counts;
}

// Whether a station shows under the list's filters: its id contains `text` (any case)
// and, if a state is chosen, it is in that state.
export function stationShown(station, text, state) {
  const matches = !text || station.station_id.toLowerCase().includes(text.toLowerCase());
  return matches && (!state || station.health === state);
}

// "12 s ago", "5 min ago", "3 h ago", "4 days ago" (in the page's language).
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t("ago.seconds", { n: s });
  if (s < 5400) return t("ago.minutes", { n: Math.round(s / 60) });
  if (s < 172800) return t("ago.hours", { n: Math.round(s / 3600) });
  return t("ago.days", { n: Math.round(s / 86400) });
}

// One panel per sensor on a shared, sorted time axis (seconds): `series` maps a sensor
// to its result rows ([ts, value] raw, or [bucket, avg, min, max, count, value]
// aggregated, `value` being the sensor kind's own aggregate: a sum, a vector mean…);
// a sensor without a row at some time gets null there (a gap in its line).
export function alignSeries(sensors, series, aggregated, range = null) {
  const times = new Set();
  const parsed = new Map();
  for (const sensor of sensors) {
    const points = (series.get(sensor) ?? []).map((p) => [Date.parse(p[0]) / 1000, ...p.slice(1)]);
    parsed.set(sensor, points);
    for (const p of points) times.add(p[0]);
  }
  const data = [...times].sort((a, b) => a - b);
  // Gaps are gaps: where the data pauses for more than three of its usual steps, an
  // empty instant between breaks every line. The range asked for bounds the axis, so
  // a week with ten minutes of data is drawn as a week, not ten minutes edge to edge.
  const step = usualStep(data);
  const xs = [];
  if (range && (!data.length || range.start < data[0])) xs.push(range.start);
  data.forEach((x, i) => {
    if (i && step && x - data[i - 1] > 3 * step) xs.push((x + data[i - 1]) / 2);
    xs.push(x);
  });
  if (range && (!data.length || range.end > data[data.length - 1])) xs.push(range.end);
  const index = new Map(xs.map((x, i) => [x, i]));
  return sensors.map((sensor) => {
    const empty = () => new Array(xs.length).fill(null);
    const panel = { sensor, aggregated, xs };
    if (aggregated) {
      // result columns: bucket, avg, min, max, count, value
      panel.avg = empty();
      panel.min = empty();
      panel.max = empty();
      panel.value = empty();
      for (const row of parsed.get(sensor)) {
        const [x, avg, min, max, , value] = row;
        const i = index.get(x);
        panel.avg[i] = avg;
        panel.min[i] = min;
        panel.max[i] = max;
        // A null value stays null (an angle stored before it was one: no mean direction);
        // only a result without the column (from before kinds) falls back to the mean.
        panel.value[i] = row.length > 5 ? value : avg;
      }
    } else {
      panel.values = empty();
      for (const [x, value] of parsed.get(sensor)) panel.values[index.get(x)] = value;
    }
    return panel;
  });
}

// The median distance between neighbouring instants (0 for fewer than two).
export function usualStep(xs) {
  if (xs.length < 2) return 0;
  const steps = xs.slice(1).map((x, i) => x - xs[i]).sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

// Which station the page shows of itself, or null to leave the choice as it is. Until the
// user picks one it shows a station that is sending: on a fresh start none may be yet,
// so this is asked again at each refresh while the page's own pick stands (live mode only).
export function stationToShow({ listed, selected, autoPicked, inLiveMode, selectedHealth }) {
  const sending = listed.find((s) => s.health === "live");
  if (!selected) return listed.length ? (sending || listed[0]).station_id : null;
  if (autoPicked && inLiveMode && sending && selectedHealth !== "live") return sending.station_id;
  return null;
}

// The sensors to draw on a station that has `known`: those chosen before that it has too,
// so a comparison survives switching stations; else the default.
export function sensorsFor(chosen, known) {
  const kept = chosen.filter((s) => known.includes(s));
  return kept.length ? kept : defaultSensors(known);
}

export function defaultSensors(known) {
  if (known.includes("temperature")) return ["temperature"];
  return known.slice(0, 1);
}

// A live frame's readings ([ts, {sensor: value}]) merged into `points` (ts -> values):
// a later frame may add sensors to a time already held. Returns the sensors named.
export function mergeReadings(points, readings) {
  const sensors = new Set();
  for (const [ts, values] of readings) {
    points.set(ts, { ...points.get(ts), ...values });
    for (const sensor of Object.keys(values)) sensors.add(sensor);
  }
  return sensors;
}

// The live panels of `sensors` over `points` once those older than `horizon` (seconds)
// are dropped from it; none when there is nothing to draw.
export function livePanels(points, sensors, horizon) {
  for (const ts of points.keys()) if (ts < horizon) points.delete(ts);
  const xs = [...points.keys()].sort((a, b) => a - b);
  if (!xs.length) return [];
  return sensors.map((sensor) => ({
    sensor,
    aggregated: false,
    xs,
    values: xs.map((ts) => points.get(ts)[sensor] ?? null),
  }));
}
