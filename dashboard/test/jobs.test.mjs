// Unit tests of how the page follows a historical job: `node --test test/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { addPage, jobUpdate, rememberLatest } from "../src/jobs.js";
import { fetchResult } from "../src/job-result.js";

const fresh = () => ({ id: "j", status: "queued", rows: 0 });

test("queued and running statuses move the bar and say how far the job is", () => {
  assert.deepEqual(jobUpdate(fresh(), "queued", {}), {
    status: "queued",
    rows: 0,
    finished: false,
    fraction: 0,
    text: "queued: waiting for a worker…",
    failure: null,
  });
  const progress = jobUpdate(fresh(), "progress", { progress: 0.256, rows_done: 512 });
  assert.equal(progress.status, "running"); // an event's "progress" is the poll's "running"
  assert.equal(progress.rows, 512);
  assert.equal(progress.fraction, 0.256);
  assert.equal(progress.text, "running: 26 % (512 rows)");
  const polled = jobUpdate({ ...fresh(), rows: 7 }, "running", {});
  assert.deepEqual([polled.fraction, polled.text], [0, "running: 0 % (7 rows)"]);
});

test("a late 'queued' after 'running' and anything after the end change nothing", () => {
  assert.equal(jobUpdate({ ...fresh(), status: "running" }, "queued", {}), null);
  assert.equal(jobUpdate({ ...fresh(), shown: true }, "running", { progress: 0.5 }), null);
});

test("the three endings finish the job; a cancel leaves the bar where it is", () => {
  const completed = jobUpdate(fresh(), "completed", { rows: 10 });
  assert.deepEqual(
    [completed.finished, completed.fraction, completed.text],
    [true, 1, "completed: fetching the result…"],
  );
  const cancelled = jobUpdate(fresh(), "cancelled", { rows_done: 3 });
  assert.deepEqual(
    [cancelled.finished, cancelled.fraction, cancelled.text],
    [true, null, "cancelled"],
  );
  assert.equal(cancelled.rows, 3);
});

test("a failure says why, from whichever field its source filled", () => {
  const why = (detail) => jobUpdate(fresh(), "failed", detail);
  assert.deepEqual(
    [why({ reason: "range_too_long", detail: "exceeds your limit" }).failure, why({}).text],
    ["exceeds your limit", "failed: unknown reason"],
  );
  assert.equal(why({ reason: "forbidden" }).failure, "forbidden");
  assert.equal(why({ error: "disk full" }).failure, "disk full"); // the poll's field
  assert.deepEqual([why({}).finished, why({}).fraction], [true, 0]);
});

test("an unknown status is recorded but shown as nothing", () => {
  const update = jobUpdate(fresh(), "paused", { rows_done: 4 });
  assert.deepEqual(
    [update.status, update.rows, update.finished, update.text],
    ["paused", 4, false, null],
  );
});

test("early news keeps each job's latest event, for the most recent jobs only", () => {
  const news = new Map();
  rememberLatest(news, { job_id: "a", type: "queued" }, 2);
  rememberLatest(news, { job_id: "b", type: "queued" }, 2);
  rememberLatest(news, { job_id: "a", type: "progress" }, 2); // "a" is now the most recent
  rememberLatest(news, { job_id: "c", type: "queued" }, 2);
  assert.deepEqual([...news.keys()], ["a", "c"]);
  assert.equal(news.get("a").type, "progress");
});

test("result pages add up per sensor, in page order", () => {
  const series = new Map();
  addPage(series, { series: [{ sensor: "t", points: [[1, 2]] }, { sensor: "rh", points: [] }] });
  addPage(series, { series: [{ sensor: "t", points: [[3, 4], [5, 6]] }] });
  assert.deepEqual(Object.fromEntries(series), { t: [[1, 2], [3, 4], [5, 6]], rh: [] });
});

function pagedApi(pages) {
  const asked = [];
  return {
    asked,
    async get(path) {
      asked.push(path);
      return pages[asked.length - 1];
    },
  };
}

test("a result is read page by page until the last, and says if it is aggregated", async () => {
  const columns = ["bucket", "avg", "min", "max", "count"];
  const api = pagedApi([
    { columns, series: [{ sensor: "t", points: [[1]] }], next_offset: 1 },
    { columns, series: [{ sensor: "t", points: [[2]] }], next_offset: null },
  ]);
  const result = await fetchResult(api, "j", () => true);
  assert.deepEqual(api.asked, [
    "/v1/historical-jobs/j/result?offset=0&limit=100000",
    "/v1/historical-jobs/j/result?offset=1&limit=100000",
  ]);
  assert.deepEqual(result.series.get("t"), [[1], [2]]);
  assert.equal(result.aggregated, true);
});

test("a result the page no longer wants stops being read", async () => {
  const api = pagedApi([{ columns: ["ts", "value"], series: [], next_offset: 5 }]);
  assert.equal(await fetchResult(api, "j", () => false), null);
  assert.equal(api.asked.length, 1);
  const raw = pagedApi([{ columns: ["ts", "value"], series: [], next_offset: null }]);
  assert.equal((await fetchResult(raw, "j", () => true)).aggregated, false);
});
