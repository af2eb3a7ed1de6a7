// Unit tests of the page's times: `node --test test/` (run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, offsetMinutes } from "../src/time.js";

test("a zone is named with its offset, and times are shown in it", () => {
  const jakarta = clock("Asia/Jakarta", "en-GB");
  const instant = new Date(Date.UTC(2026, 11, 1, 13, 5, 0));
  assert.equal(offsetMinutes("Asia/Jakarta", instant), 420);
  assert.equal(jakarta.name(instant), "Asia/Jakarta (UTC+07:00)");
  assert.equal(jakarta.time(instant), "20:05");
  assert.equal(clock("America/St_Johns").name(instant), "America/St_Johns (UTC−03:30)");
  assert.equal(clock("UTC").name(instant), "UTC (UTC+00:00)");
});

test("the range inputs read and write wall time in the zone, across a DST change too", () => {
  const jakarta = clock("Asia/Jakarta");
  const instant = new Date(Date.UTC(2026, 11, 1, 13, 5, 9));
  assert.equal(jakarta.toInput(instant), "2026-12-01T20:05:09");
  assert.equal(jakarta.fromInput("2026-12-01T20:05:09").getTime(), instant.getTime());
  const berlin = clock("Europe/Berlin");
  // 00:30Z is 01:30 CET, the hour before the spring gap: the second estimate corrects it.
  for (const iso of ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T03:30:00Z",
                     "2026-10-25T03:30:00Z"]) {
    const t = new Date(iso);
    assert.equal(berlin.fromInput(berlin.toInput(t)).getTime(), t.getTime(), iso);
  }
  assert.ok(Number.isNaN(jakarta.fromInput("").getTime()));
});

test("axis labels say the day where it changes", () => {
  const utc = clock("UTC", "en-GB");
  const t0 = Date.UTC(2026, 0, 1, 22) / 1000;
  const labels = utc.axis([t0, t0 + 3600, t0 + 7200], 3600);
  assert.deepEqual(labels, ["22:00\n1 Jan 2026", "23:00", "00:00\n2 Jan"]);
  assert.deepEqual(utc.axis([t0, t0 + 86400 * 365], 86400 * 2), ["1 Jan 2026", "1 Jan 2027"]);
  assert.deepEqual(utc.axis([t0, t0 + 15, t0 + 30], 15), ["22:00:00\n1 Jan 2026", "22:00:15", "22:00:30"]);
});
