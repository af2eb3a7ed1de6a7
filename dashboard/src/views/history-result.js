// A completed job's result: drawn when a chart can hold it, and offered as CSV either way.
import { alignSeries } from "../logic.js";
import { fetchResult } from "../job-result.js";

const MAX_DRAWN_ROWS = 2_000_000; // beyond this a result is offered as CSV, not drawn

// `isCurrent()` (per draw) is false once the page has left the job; `isShown()` once the
// user has left for live mode, whose chart a late result must not replace.
// Fetching and drawing are a phase of their own: the bar follows the rows fetched, and
// `stop()` (the Cancel button) leaves the result undrawn but downloadable.
export function resultView({ charts, chartNote, errors, progress, station, isShown, cancellable }) {
  const download = document.getElementById("download");
  let offered = null; // {api, job} of the result the Download button fetches
  let drawing = null; // the job whose result is being fetched, until it is drawn

  download.addEventListener("click", () => downloadCsv());

  async function draw(api, job, isCurrent) {
    let rows;
    try {
      rows = (await api.get(`/v1/historical-jobs/${job.id}`)).rows_done;
    } catch (error) {
      progress.set(1, `failed: ${error.message}`);
      return errors.show(error);
    }
    if (!isCurrent()) return;
    if (rows > MAX_DRAWN_ROWS) {
      const many = rows.toLocaleString();
      charts.clear(`${many} rows are more than a chart can show; download the CSV.`);
      offer(api, job);
      progress.set(1, `completed: ${rows.toLocaleString()} rows`);
      return;
    }
    const started = performance.now();
    drawing = job;
    const wanted = () => isCurrent() && drawing === job;
    cancellable(true);
    progress.set(0, `fetching the result: 0 of ${rows.toLocaleString()} rows…`);
    let result;
    try {
      result = await fetchResult(api, job.id, wanted, (fetched) => {
        const share = rows ? Math.min(1, fetched / rows) : 1;
        progress.set(share, `fetching the result: ${fetched.toLocaleString()} of ${rows.toLocaleString()} rows…`);
      });
    } catch (error) {
      progress.set(1, `failed: ${error.message}`);
      return errors.show(error);
    } finally {
      if (isCurrent()) cancellable(false); // an abandoned fetch leaves the next job's Cancel be
    }
    if (drawing !== job && isCurrent()) {
      charts.clear("The result was not drawn; Download CSV has it.");
      offer(api, job);
      progress.say("stopped: the result was not drawn (Download CSV has it)");
      return;
    }
    drawing = null;
    if (!result || !isCurrent() || !isShown()) return;
    progress.set(1, "drawing…");
    await new Promise((resolve) => requestAnimationFrame(resolve)); // let "drawing…" show
    if (!isCurrent() || !isShown()) return;
    const range = { start: Date.parse(job.start) / 1000, end: Date.parse(job.end) / 1000 };
    const panels = alignSeries(job.sensors, result.series, result.aggregated, range);
    if (!panels.length || !result.series.size) {
      charts.clear("No readings in this range.");
    } else {
      charts.draw(panels, "history");
    }
    offer(api, job);
    const points = Number(charts.element.dataset.pointCount);
    const ms = Math.round(performance.now() - started);
    progress.set(1, `completed: ${points.toLocaleString()} points drawn`);
    chartNote.textContent = `${rows.toLocaleString()} rows fetched and drawn in ${ms} ms.`;
  }

  function offer(api, job) {
    offered = { api, job };
    download.hidden = false;
  }

  function withdraw() {
    offered = null;
    drawing = null;
    download.hidden = true;
  }

  // Stop fetching the result being fetched; true if there was one.
  function stop() {
    if (!drawing) return false;
    drawing = null;
    return true;
  }

  async function downloadCsv() {
    if (!offered) return;
    const { api, job } = offered;
    try {
      const blob = await api.blob(`/v1/historical-jobs/${job.id}/result`, "text/csv");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${station()}-${job.id}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      errors.show(error);
    }
  }

  return { draw, withdraw, stop };
}
