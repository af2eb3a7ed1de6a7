// The history view: a range read by a background job, with progress and cancel, until
// its result is drawn. Nothing waits on a query: the job's news arrives over the event
// stream, and a slow poll covers a stream that dropped.
import { ApiError } from "../api.js";
import { jobEvents } from "../job-events.js";
import { jobUpdate, TERMINAL } from "../jobs.js";
import { sleep } from "../sleep.js";
import { jobProgress } from "./history-progress.js";
import { rangeView } from "./history-range.js";
import { resultView } from "./history-result.js";
import { t } from "../i18n.js";

const $ = (id) => document.getElementById(id);

// `station()` and `sensors()` are what a load asks for.
export function historyView(deps) {
  const { charts, chartNote, errors, station, sensors, isShown, onUnauthorized } = deps;
  const controls = $("history-controls");
  const cancelButton = $("cancel");
  const range = rangeView(controls);
  const progress = jobProgress();
  const result = resultView({
    charts,
    chartNote,
    errors,
    progress,
    station,
    isShown,
    cancellable: (yes) => (cancelButton.disabled = !yes),
  });
  // A drag on a history chart zooms: the range becomes the zoomed one and is loaded again
  // (at the finer resolution `auto` picks for it).
  charts.onZoom = (from, to) => {
    if (!isShown()) return;
    range.set(from, to);
    load();
  };
  const news = jobEvents({ onUnauthorized });
  let api = null;
  let job = null; // {id, status, rows, sensors, shown}: the job on screen

  $("load-history").addEventListener("click", () => load());
  cancelButton.addEventListener("click", () => cancel());

  function connect(signedIn) {
    api = signedIn;
    news.follow(api, (event) => {
      if (!job || event.job_id !== job.id) return false;
      onStatus(job, event.type, event);
      return true;
    });
  }

  async function load() {
    errors.clear();
    abandon(job);
    reset(); // whatever happens next, the previous job's status and chart are gone
    if (!station()) return errors.show(new Error(t("history.need_station")));
    if (!sensors().length) return errors.show(new Error(t("history.need_sensor")));
    const { start, end, resolution } = range.read();
    if (!(start < end)) return errors.show(new Error(t("history.bad_range")));
    progress.open();
    progress.set(0, t("job.submitting"));
    cancelButton.disabled = true;
    let created;
    try {
      created = await api.request("POST", "/v1/historical-jobs", {
        stations: [station()],
        sensors: sensors(),
        start: start.toISOString(),
        end: end.toISOString(),
        resolution,
      });
    } catch (error) {
      progress.set(0, t("job.failed", { why: error.message }));
      return errors.show(error);
    }
    const mine = {
      id: created.job_id,
      status: created.status,
      rows: 0,
      sensors: [...sensors()],
      start: start.toISOString(),
      end: end.toISOString(),
    };
    job = mine;
    cancelButton.disabled = false;
    onStatus(mine, created.status, {});
    const early = news.early(mine.id);
    if (early) onStatus(mine, early.type, early);
    poll(mine);
  }

  function onStatus(mine, status, detail) {
    if (job !== mine) return;
    const update = jobUpdate(mine, status, detail);
    if (!update) return;
    mine.status = update.status;
    mine.rows = update.rows;
    if (update.finished) {
      mine.shown = true;
      cancelButton.disabled = true;
    }
    if (update.text !== null) progress.set(update.fraction ?? progress.fraction(), update.text);
    if (update.status === "completed") result.draw(api, mine, () => job === mine);
    if (update.status === "cancelled") showCancelled(mine);
    if (update.failure) errors.show(new Error(t("job.failed_error", { why: update.failure })));
  }

  // A job replaced on screen (Load again, a zoom) while it still runs is cancelled: no
  // worker keeps reading a range nobody will see.
  function abandon(previous) {
    if (!previous || TERMINAL.has(previous.status)) return;
    api.request("DELETE", `/v1/historical-jobs/${previous.id}`).catch(() => {});
  }

  // A cancelled job shows the figure the server recorded, not the last event's.
  async function showCancelled(mine) {
    try {
      const view = await api.get(`/v1/historical-jobs/${mine.id}`);
      if (job !== mine) return;
      const percent = Math.round(view.progress * 100);
      progress.set(view.progress, t("job.cancelled_at", { percent, rows: view.rows_done }));
    } catch {
      // the word "cancelled" stays
    }
  }

  // The event stream carries the news; this only covers a stream that dropped.
  async function poll(mine) {
    while (job === mine && !TERMINAL.has(mine.status)) {
      await sleep(2000);
      if (job !== mine || TERMINAL.has(mine.status)) return;
      try {
        const view = await api.get(`/v1/historical-jobs/${mine.id}`);
        if (view.status !== mine.status || view.status === "running") {
          onStatus(mine, view.status, {
            progress: view.progress,
            rows_done: view.rows_done,
            rows: view.rows_done,
            error: view.error,
          });
        }
      } catch {
        // the next round tries again
      }
    }
  }

  async function cancel() {
    const mine = job;
    if (mine && mine.status === "completed" && result.stop()) return; // the fetch phase
    if (!mine || TERMINAL.has(mine.status)) return;
    cancelButton.disabled = true;
    progress.say(t("job.cancelling"));
    try {
      const answer = await api.request("DELETE", `/v1/historical-jobs/${mine.id}`);
      if (TERMINAL.has(answer.status)) onStatus(mine, answer.status, {});
    } catch (error) {
      // Ended meanwhile (409 job_ended): its own event brings the final state.
      if (error instanceof ApiError && error.code === "job_ended") return;
      cancelButton.disabled = false;
      errors.show(error);
    }
  }

  // Forget the job on screen (another station, another load): its late news is ignored.
  function reset() {
    job = null;
    progress.close();
    result.withdraw();
    chartNote.textContent = "";
  }

  function show() {
    controls.hidden = false;
    range.ensure();
    reset(); // back from live: no status or Download of a chart no longer shown
    prompt();
  }

  function hide() {
    controls.hidden = true;
  }

  function prompt(note = t("history.prompt")) {
    charts.clear(note);
  }

  return { connect, reset, show, hide, prompt };
}
