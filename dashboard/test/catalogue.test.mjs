// Unit tests of the catalogue's use on the page: `node --test test/` (run by `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { catalogue, drawing, formatValue, outOfRange } from "../src/catalogue.js";

const entries = [
  { name: "rain", display_name: "Rainfall", unit: "mm", kind: "accumulation", decimals: 1,
    valid_min: 0, valid_max: 500, source: "default" },
  { name: "odd", display_name: "odd", unit: "", kind: "instantaneous", decimals: 2,
    valid_min: null, valid_max: null, source: "unknown" },
];

test("a sensor is named and united by the catalogue, or by itself as unknown", () => {
  const describe = catalogue(entries);
  assert.equal(describe("rain").label, "Rainfall (mm)");
  assert.equal(describe("rain").kind, "accumulation");
  assert.deepEqual([describe("odd").label, describe("odd").kind], ["odd", "unknown"]);
  assert.deepEqual([describe("x").label, describe("x").kind, describe("x").unit], ["x", "unknown", ""]);
});

test("each kind draws its own aggregate: bars of sums, points of angles, a band only for means", () => {
  assert.deepEqual(drawing("accumulation", true), { style: "bars", band: false, column: "value" });
  assert.deepEqual(drawing("angle", true), { style: "points", band: false, column: "value" });
  assert.deepEqual(drawing("counter", true), { style: "line", band: false, column: "value" });
  assert.deepEqual(drawing("state", true), { style: "line", band: false, column: "value" });
  assert.deepEqual(drawing("instantaneous", true), { style: "line", band: true, column: "avg" });
  assert.deepEqual(drawing("unknown", false), { style: "line", band: false, column: "values" });
  assert.equal(drawing("angle", false).style, "points");
});

test("values outside the valid range are picked out, the rest left as gaps", () => {
  const rain = catalogue(entries)("rain");
  assert.deepEqual(outOfRange(rain, [1, -2, null, 600, 500]), [null, -2, null, 600, null]);
  assert.deepEqual(outOfRange(catalogue(entries)("odd"), [1e9]), [null]);
});

test("values are shown with the catalogue's decimals and unit", () => {
  const rain = catalogue(entries)("rain");
  assert.equal(formatValue(rain, 2), "2.0 mm");
  assert.equal(formatValue(rain, null), "—");
});
