// The dashboard's pure logic: no DOM, no network. Unit-tested with `node --test` (test/).

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

// "12 s ago", "5 min ago", "3 h ago", "4 days ago".
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

// One panel per sensor on a shared, sorted time axis (seconds): `series` maps a sensor
// to its result rows ([ts, value] raw, or [bucket, avg, min, max, count] aggregated);
// a sensor without a row at some time gets null there (a gap in its line).
export function alignSeries(sensors, series, aggregated) {
  const times = new Set();
  const parsed = new Map();
  for (const sensor of sensors) {
    const points = (series.get(sensor) ?? []).map((p) => [Date.parse(p[0]) / 1000, ...p.slice(1)]);
    parsed.set(sensor, points);
    for (const p of points) times.add(p[0]);
  }
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  return sensors.map((sensor) => {
    const empty = () => new Array(xs.length).fill(null);
    const panel = { sensor, aggregated, xs };
    if (aggregated) {
      // result columns: bucket, avg, min, max, count
      panel.avg = empty();
      panel.min = empty();
      panel.max = empty();
      for (const [x, avg, min, max] of parsed.get(sensor)) {
        const i = index.get(x);
        panel.avg[i] = avg;
        panel.min[i] = min;
        panel.max[i] = max;
      }
    } else {
      panel.values = empty();
      for (const [x, value] of parsed.get(sensor)) panel.values[index.get(x)] = value;
    }
    return panel;
  });
}
