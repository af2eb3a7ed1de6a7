// Unit tests of the dashboard's pure logic: `node --test test/` (run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ago,
  alignSeries,
  byHealth,
  byTrouble,
  countByHealth,
  defaultSensors,
  livePanels,
  mergeReadings,
  parseEvent,
  sensorsFor,
  splitEvents,
  stationShown,
  stationToShow,
} from "../src/logic.js";

test("SSE events split across chunks come out whole, in order", () => {
  const stream = 'id: 3-0\nevent: progress\ndata: {"p":0.5}\n\n: heartbeat\n\nevent: completed\ndata: {}\n\n';
  for (const cut of [1, 7, 20, 33, 48, stream.length - 1]) {
    const first = splitEvents(stream.slice(0, cut));
    const second = splitEvents(first.rest + stream.slice(cut));
    const events = [...first.events, ...second.events];
    assert.deepEqual(events, [
      { event: "progress", data: '{"p":0.5}', id: "3-0" },
      { event: "completed", data: "{}", id: null },
    ], `cut at ${cut}`);
    assert.equal(second.rest, "");
  }
});

test("an SSE event keeps multi-line data and ignores comments and unknown fields", () => {
  assert.deepEqual(parseEvent("data: a\n: note\nretry: 10\ndata:b"), {
    event: "message",
    data: "a\nb",
    id: null,
  });
  assert.equal(parseEvent(": heartbeat only"), null);
  assert.equal(parseEvent("event: nothing-to-say"), null);
});

test("stations sort live first, then late, silent, no data; by id within each", () => {
  const stations = [
    { station_id: "B", health: "silent" },
    { station_id: "C", health: "live" },
    { station_id: "A", health: "no_data" },
    { station_id: "A2", health: "live" },
    { station_id: "D", health: "late" },
  ];
  assert.deepEqual(
    [...stations].sort(byHealth).map((s) => s.station_id),
    ["A2", "C", "D", "B", "A"],
  );
});

test("last seen reads in the largest unit that still makes sense", () => {
  assert.equal(ago(-5000), "0 s ago"); // a clock slightly ahead of the server
  assert.equal(ago(89_400), "89 s ago");
  assert.equal(ago(90_000), "2 min ago");
  assert.equal(ago(5_400_000), "2 h ago");
  assert.equal(ago(172_800_000), "2 days ago");
});

test("series are aligned on one sorted time axis with gaps as null", () => {
  const series = new Map([
    ["t", [["2026-01-01T00:00:10Z", 2.5], ["2026-01-01T00:00:00Z", 1.5]]],
    ["rh", [["2026-01-01T00:00:05+00:00", 80]]],
  ]);
  const [t, rh, missing] = alignSeries(["t", "rh", "rain"], series, false);
  const x0 = Date.parse("2026-01-01T00:00:00Z") / 1000;
  assert.deepEqual(t.xs, [x0, x0 + 5, x0 + 10]);
  assert.deepEqual(t.values, [1.5, null, 2.5]);
  assert.deepEqual(rh.values, [null, 80, null]);
  assert.deepEqual(missing.values, [null, null, null]);
  assert.equal(t.xs, rh.xs); // one axis shared by every panel
});

test("a pause in the data is a gap, and the axis spans the range asked for", () => {
  const at = (minute) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  const rows = [0, 1, 2, 30, 31].map((m) => [at(m), m]);
  const x = (minute) => Date.UTC(2026, 0, 1, 0, minute) / 1000;
  const range = { start: x(-10), end: x(60) };
  const [panel] = alignSeries(["t"], new Map([["t", rows]]), false, range);
  assert.deepEqual(panel.xs, [x(-10), x(0), x(1), x(2), (x(2) + x(30)) / 2, x(30), x(31), x(60)]);
  assert.deepEqual(panel.values, [null, 0, 1, 2, null, 30, 31, null]);
  const [none] = alignSeries(["t"], new Map(), false, range);
  assert.deepEqual([none.xs, none.values], [[x(-10), x(60)], [null, null]]);
});

test("a bucket without its kind's value stays a gap; a result from before kinds shows the mean", () => {
  const series = new Map([["wd", [["2026-01-01T06:00:00Z", 180, 10, 350, 2, null]]]]);
  assert.deepEqual(alignSeries(["wd"], series, true)[0].value, [null]);
  const old = new Map([["t", [["2026-01-01T06:00:00Z", 2, 1, 3, 60]]]]);
  assert.deepEqual(alignSeries(["t"], old, true)[0].value, [2]);
});

test("aggregated series carry average, minimum and maximum per bucket", () => {
  const series = new Map([["t", [["2026-01-01T06:00:00Z", 2, 1, 3, 60]]]]);
  const [panel] = alignSeries(["t"], series, true);
  assert.deepEqual(
    { avg: panel.avg, min: panel.min, max: panel.max, aggregated: panel.aggregated },
    { avg: [2], min: [1], max: [3], aggregated: true },
  );
});

const listed = [
  { station_id: "quiet", health: "silent" },
  { station_id: "sending", health: "live" },
];

test("with no station shown the page shows one that is sending, else the first", () => {
  const pick = (stations) =>
    stationToShow({ listed: stations, selected: null, autoPicked: false, inLiveMode: true });
  assert.equal(pick(listed), "sending");
  assert.equal(pick([listed[0]]), "quiet");
  assert.equal(pick([]), null);
});

test("the page moves its own pick to a sending station, in live mode only", () => {
  const own = {
    listed,
    selected: "quiet",
    autoPicked: true,
    inLiveMode: true,
    selectedHealth: "silent",
  };
  assert.equal(stationToShow(own), "sending");
  assert.equal(stationToShow({ ...own, inLiveMode: false }), null); // history keeps its station
  assert.equal(stationToShow({ ...own, autoPicked: false }), null); // the user's pick stands
  assert.equal(stationToShow({ ...own, selectedHealth: "live" }), null); // already sending
  assert.equal(stationToShow({ ...own, listed: [listed[0]] }), null); // nothing better
});

test("sensors chosen carry over to a station that has them, else the default", () => {
  assert.deepEqual(sensorsFor(["rain", "wind"], ["rain", "temperature"]), ["rain"]);
  assert.deepEqual(sensorsFor(["wind"], ["rain", "temperature"]), ["temperature"]);
  assert.deepEqual(defaultSensors(["rain", "humidity"]), ["rain"]);
  assert.deepEqual(defaultSensors([]), []);
});

test("live frames merge into points by time and name the sensors they carry", () => {
  const points = new Map([[10, { t: 1 }]]);
  const named = mergeReadings(points, [[10, { rh: 80 }], [20, { t: 2 }], [30, { t: 3, rh: 81 }]]);
  assert.deepEqual([...named], ["rh", "t"]);
  assert.deepEqual(points.get(10), { t: 1, rh: 80 });
  assert.deepEqual([...points.keys()], [10, 20, 30]);
});

test("live panels drop points past the horizon and leave gaps as null", () => {
  const points = new Map([[30, { t: 3 }], [5, { t: 0 }], [20, { rh: 80 }]]);
  const [t, rh] = livePanels(points, ["t", "rh"], 10);
  assert.deepEqual([...points.keys()].sort(), [20, 30]); // the old point is gone for good
  assert.deepEqual(t, { sensor: "t", aggregated: false, xs: [20, 30], values: [null, 3] });
  assert.deepEqual(rh.values, [80, null]);
  assert.deepEqual(livePanels(points, [], 10), []);
  assert.deepEqual(livePanels(points, ["t"], 100), []); // everything is too old
  assert.equal(points.size, 0);
});

test("stations are counted by state, sorted trouble first, and filtered by id and state", () => {
  const stations = [
    { station_id: "B", health: "live" },
    { station_id: "A", health: "silent" },
    { station_id: "C", health: "no_data" },
    { station_id: "D", health: "late" },
    { station_id: "E", health: "silent" },
  ];
  assert.deepEqual(countByHealth(stations), { live: 1, late: 1, silent: 2, no_data: 1 });
  assert.deepEqual([...stations].sort(byTrouble).map((s) => s.station_id), ["A", "E", "D", "C", "B"]);
  assert.deepEqual([...stations].sort(byHealth).map((s) => s.station_id), ["B", "D", "A", "E", "C"]);
  assert.equal(stationShown(stations[1], "a", "silent"), true);
  assert.equal(stationShown(stations[1], "", "live"), false);
  assert.equal(stationShown(stations[0], "x", ""), false);
  assert.equal(stationShown(stations[0], "", ""), true);
});
