// The operations view's pure logic: Prometheus series from GET /v1/operations made
// ready for uPlot, and the figures put in words. No DOM; unit-tested in test/.

// [{labels, points: [[t, v], ...]}] -> {xs, columns: [{label, values}]}, on the union
// of the series' timestamps (a series missing a step gets a gap there, not a zero).
export function alignPromSeries(series, labelOf) {
  const times = new Set();
  for (const s of series) for (const [t] of s.points) times.add(t);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const values = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) values[index.get(t)] = v;
    return { label: labelOf(s.labels), values };
  });
  return { xs, columns };
}

// "0 s", "42 s", "3 min 5 s", "2 h 10 min", "—" for no value.
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// 1234567 -> "1,234,567"; null -> "—".
export function count(value) {
  if (value === null || value === undefined) return "—";
  return Math.round(value).toLocaleString("en-US");
}

// The partitions worth an operator's eye first: most seconds behind, then most messages.
export function byLag(a, b) {
  return (b.seconds ?? 0) - (a.seconds ?? 0) || (b.messages ?? 0) - (a.messages ?? 0) ||
    a.group.localeCompare(b.group) || a.partition - b.partition;
}
