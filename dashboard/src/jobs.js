// A historical job as the page follows it: what each status means on screen, the news
// that arrives before its job, and its result's pages. No DOM, no network (test/).
import { t } from "./i18n.js";

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

// One place decides what a status means, whichever way it arrived (event stream, poll,
// the answer to a cancel). null when it changes nothing; else the job's new status and
// rows, whether it has finished, the progress to show (text null: leave it; fraction
// null: the bar stays where it is) and, for a failure, why.
export function jobUpdate(job, status, detail) {
  if (job.shown) return null; // a finished job's screen stays as it is
  if (status === "queued" && job.status === "running") return null; // a late copy of old news
  const rows = detail.rows_done !== undefined ? detail.rows_done : job.rows;
  const finished = TERMINAL.has(status);
  const update = { status, rows, finished, fraction: null, text: null, failure: null };
  if (status === "queued") {
    return { ...update, fraction: 0, text: t("job.queued") };
  }
  if (status === "running" || status === "progress") {
    const p = detail.progress ?? 0;
    const text = t("job.running", { percent: Math.round(p * 100), rows });
    return { ...update, status: "running", fraction: p, text };
  }
  if (status === "completed") {
    return { ...update, fraction: 1, text: t("job.completed_fetching") };
  }
  if (status === "cancelled") return { ...update, text: t("job.cancelled") };
  if (status === "failed") {
    const why = detail.detail || detail.reason || detail.error || t("job.unknown_reason");
    return { ...update, fraction: 0, text: t("job.failed", { why }), failure: why };
  }
  return update;
}

// Keeps a job's latest event in `news` (job id -> event) until a job on screen claims it:
// an event may overtake the answer to the POST that created its job. Only the `limit`
// most recently heard-of jobs are kept.
export function rememberLatest(news, event, limit = 50) {
  news.delete(event.job_id);
  news.set(event.job_id, event);
  if (news.size > limit) news.delete(news.keys().next().value);
}

// One page of a result added to `series` (sensor -> rows, in the order the pages came).
export function addPage(series, page) {
  for (const s of page.series) {
    const points = series.get(s.sensor) ?? [];
    for (const p of s.points) points.push(p);
    series.set(s.sensor, points);
  }
}
