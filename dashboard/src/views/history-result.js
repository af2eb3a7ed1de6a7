// A completed job's result: drawn when a chart can hold it, and offered as CSV either way.
import { alignSeries } from "../logic.js";
import { fetchResult } from "../job-result.js";
import { times } from "../times.js";
import { t } from "../i18n.js";

const MAX_DRAWN_ROWS = 2_000_000; // beyond this a result is offered as CSV, not drawn

// `isCurrent()` (per draw) is false once the page has left the job; `isShown()` once the
// user has left for live mode, whose chart a late result must not replace.
// Fetching and drawing are a phase of their own: the bar follows the rows fetched, and
// `stop()` (the Cancel button) leaves the result undrawn but downloadable.
export function resultView({ charts, chartNote, errors, progress, station, isShown, cancellable }) {
  const download = document.getElementById("download");
  const csvZone = document.getElementById("csv-zone");
  const csvZoneChoice = document.getElementById("csv-zone-choice");
  let offered = null; // {api, job} of the result the Download button fetches
  let drawing = null; // the job whose result is being fetched, until it is drawn

  download.addEventListener("click", () => downloadCsv());

  async function draw(api, job, isCurrent) {
    let rows;
    try {
      rows = (await api.get(`/v1/historical-jobs/${job.id}`)).rows_done;
    } catch (error) {
      progress.set(1, t("job.failed", { why: error.message }));
      return errors.show(error);
    }
    if (!isCurrent()) return;
    if (rows > MAX_DRAWN_ROWS) {
      charts.clear(t("result.too_many", { rows }));
      offer(api, job);
      progress.set(1, t("result.completed_rows", { rows }));
      return;
    }
    const started = performance.now();
    drawing = job;
    const wanted = () => isCurrent() && drawing === job;
    cancellable(true);
    progress.set(0, t("result.fetching", { fetched: 0, rows }));
    let result;
    try {
      result = await fetchResult(api, job.id, wanted, (fetched) => {
        const share = rows ? Math.min(1, fetched / rows) : 1;
        progress.set(share, t("result.fetching", { fetched, rows }));
      });
    } catch (error) {
      progress.set(1, t("job.failed", { why: error.message }));
      return errors.show(error);
    } finally {
      if (isCurrent()) cancellable(false); // an abandoned fetch leaves the next job's Cancel be
    }
    if (drawing !== job && isCurrent()) {
      charts.clear(t("result.not_drawn_chart"));
      offer(api, job);
      progress.say(t("result.not_drawn_status"));
      return;
    }
    drawing = null;
    if (!result || !isCurrent() || !isShown()) return;
    progress.set(1, t("result.drawing"));
    await new Promise((resolve) => requestAnimationFrame(resolve)); // let "drawing…" show
    if (!isCurrent() || !isShown()) return;
    const range = { start: Date.parse(job.start) / 1000, end: Date.parse(job.end) / 1000 };
    const panels = alignSeries(job.sensors, result.series, result.aggregated, range);
    if (!panels.length || !result.series.size) {
      charts.clear(t("result.no_readings"));
    } else {
      charts.draw(panels, "history");
    }
    offer(api, job);
    const points = Number(charts.element.dataset.pointCount);
    const ms = Math.round(performance.now() - started);
    progress.set(1, t("result.completed_points", { points }));
    chartNote.textContent = t("result.note", { rows, ms });
  }

  function offer(api, job) {
    offered = { api, job };
    download.hidden = false;
    csvZoneChoice.hidden = times().zone === "UTC"; // UTC is the only choice there
  }

  function withdraw() {
    offered = null;
    drawing = null;
    download.hidden = true;
    csvZoneChoice.hidden = true;
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
      const zone = csvZoneChoice.hidden ? "UTC" : csvZone.value;
      const path = `/v1/historical-jobs/${job.id}/result?time_zone=${encodeURIComponent(zone)}`;
      const blob = await api.blob(path, "text/csv");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${station()}-${job.id}-${zone.replaceAll("/", "_")}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      errors.show(error);
    }
  }

  return { draw, withdraw, stop };
}
