// Unit tests of the operations view's logic: `node --test test/` (run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { alignPromSeries, byLag, count, duration } from "../src/operations.js";

test("series are aligned on the union of their timestamps, gaps left as gaps", () => {
  const aligned = alignPromSeries(
    [
      { labels: { group: "sink" }, points: [[30, 5], [15, 4]] },
      { labels: { group: "jobs" }, points: [[15, 0], [45, 1]] },
    ],
    (labels) => labels.group,
  );
  assert.deepEqual(aligned.xs, [15, 30, 45]);
  assert.deepEqual(aligned.columns, [
    { label: "sink", values: [4, 5, null] },
    { label: "jobs", values: [0, null, 1] },
  ]);
  assert.deepEqual(alignPromSeries([], () => ""), { xs: [], columns: [] });
});

test("durations and counts read as an operator says them", () => {
  assert.equal(duration(null), "—");
  assert.equal(duration(0.4), "0 s");
  assert.equal(duration(59.6), "1 min 0 s");
  assert.equal(duration(185), "3 min 5 s");
  assert.equal(duration(7800), "2 h 10 min");
  assert.equal(count(1234567.2), "1,234,567");
  assert.equal(count(undefined), "—");
});

test("the partitions furthest behind come first", () => {
  const rows = [
    { group: "b", partition: 1, messages: 10, seconds: 0 },
    { group: "a", partition: 2, messages: 5, seconds: 90 },
    { group: "a", partition: 0, messages: 50, seconds: 90 },
    { group: "a", partition: 1, messages: 0, seconds: null },
  ];
  assert.deepEqual(rows.sort(byLag).map((r) => `${r.group}${r.partition}`), ["a0", "a2", "b1", "a1"]);
});
