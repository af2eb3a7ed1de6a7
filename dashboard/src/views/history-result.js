// A completed job's result: drawn when a chart can hold it, and offered as CSV either way.
import { alignSeries } from "../logic.js";
import { fetchResult } from "../job-result.js";

const MAX_DRAWN_ROWS = 2_000_000; // beyond this a result is offered as CSV, not drawn

// `isCurrent()` (per draw) is false once the page has left the job; `isShown()` once the
// user has left for live mode, whose chart a late result must not replace.
export function resultView({ charts, chartNote, errors, progress, station, isShown }) {
  const download = document.getElementById("download");
  let offered = null; // {api, job} of the result the Download button fetches

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
    let result;
    try {
      result = await fetchResult(api, job.id, isCurrent);
    } catch (error) {
      progress.set(1, `failed: ${error.message}`);
      return errors.show(error);
    }
    if (!result || !isCurrent() || !isShown()) return;
    const panels = alignSeries(job.sensors, result.series, result.aggregated);
    if (!panels.length || !panels[0].xs.length) {
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
    download.hidden = true;
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

  return { draw, withdraw };
}
