// The Operations view (operator role): what Prometheus says about the pipeline, read
// through GET /v1/operations — firing alerts, lag per partition, the rates in and
// stored, dead letters and the job queue wait — refreshed every 15 s while shown.
import uPlot from "uplot";
import { ApiError } from "../api.js";
import { times } from "../times.js";
import { alignPromSeries, byLag, count, duration } from "../operations.js";
import { currentLocale, t } from "../i18n.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 15000;
const COLORS = ["#2563eb", "#059669", "#dc2626", "#d97706", "#7c3aed", "#0891b2"];

// Each chart: which series of the answer, how a series is named, the y unit.
const CHARTS = [
  { id: "rates", title: "ops.chart.rates", unit: "/s",
    series: (s) => [
      ...s.readings_accepted.map((x) => named(x, t("ops.series.accepted"))),
      ...s.readings_stored.map((x) => named(x, t("ops.series.stored"))),
    ] },
  { id: "lag", title: "ops.chart.lag", unit: "s",
    series: (s) => s.lag_seconds.map((x) => named(x, x.labels.group)) },
  { id: "dead-letters", title: "ops.chart.dead_letters", unit: "",
    series: (s) => s.dead_letters.map((x) => named(x, x.labels.topic ?? t("ops.series.dead_letters"))) },
  { id: "queue-wait", title: "ops.chart.queue_wait", unit: "s",
    series: (s) => s.queue_wait.map((x) => named(x, x.labels.lane)) },
];

const named = (series, name) => ({ labels: { name }, points: series.points });

export function operationsView({ onUnauthorized }) {
  const section = $("operations");
  const note = $("ops-note");
  const alerts = $("ops-alerts");
  const lag = $("ops-lag");
  const deadLetters = $("ops-dead-letters");
  const chartsArea = $("ops-charts");
  const plots = new Map(); // chart id -> {plot, key}
  let api = null;
  let timer = null;
  let loading = false;

  // Each chart fills its own grid cell: sized from the cell, again whenever the grid reflows.
  new ResizeObserver(() => {
    for (const { plot, wrapper } of plots.values()) {
      plot.setSize({ width: widthOf(wrapper), height: 160 });
    }
  }).observe(chartsArea);

  function connect(signedIn) {
    api = signedIn;
  }

  function show() {
    section.hidden = false;
    refresh();
    timer ??= setInterval(refresh, REFRESH_MS);
  }

  function hide() {
    section.hidden = true;
    clearInterval(timer);
    timer = null;
  }

  async function refresh() {
    if (loading) return;
    loading = true;
    let view;
    try {
      view = await api.get("/v1/operations?minutes=60");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return onUnauthorized();
      note.textContent = t("ops.not_refreshed", { message: error.message });
      note.classList.add("stale");
      return;
    } finally {
      loading = false;
    }
    note.classList.remove("stale");
    note.textContent = t("ops.as_of", {
      time: times().time(view.as_of), zone: times().zone, minutes: view.minutes, step: view.step_seconds,
    });
    drawAlerts(view.alerts);
    drawLag(view.lag);
    deadLetters.textContent = count(view.dead_letters);
    for (const chart of CHARTS) drawChart(chart, chart.series(view.series));
    section.dataset.refreshed = String(Number(section.dataset.refreshed ?? 0) + 1);
  }

  function drawAlerts(rows) {
    const firing = rows.filter((a) => a.state === "firing").length;
    $("ops-alert-count").textContent = firing ? t("ops.firing", { n: firing }) : t("ops.none_firing");
    if (!rows.length) {
      alerts.replaceChildren(emptyRow(5, t("ops.no_alerts")));
      return;
    }
    alerts.replaceChildren(...rows.map((a) => {
      const tr = document.createElement("tr");
      tr.className = `alert-${a.state} severity-${a.severity}`;
      tr.dataset.alert = a.name;
      const runbook = document.createElement("code");
      runbook.textContent = a.runbook; // docs/operations.md#<alert>: what it means, what to do
      tr.append(
        cell(word("ops.severity", a.severity)), cell(a.name), cell(word("ops.alert_state", a.state)),
        cell(a.since ? times().dateTime(new Date(a.since)) : "—"), cell(a.summary),
      );
      tr.lastChild.append(" · ", runbook);
      return tr;
    }));
  }

  function drawLag(rows) {
    if (!rows.length) {
      lag.replaceChildren(emptyRow(5, t("ops.no_lag")));
      return;
    }
    lag.replaceChildren(...[...rows].sort(byLag).map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.partition = `${r.group}/${r.topic}/${r.partition}`;
      tr.append(cell(r.group), cell(r.topic), cell(String(r.partition)), cell(count(r.messages), "num"),
        cell(duration(r.seconds), "num"));
      return tr;
    }));
  }

  function drawChart(chart, series) {
    const { xs, columns } = alignPromSeries(series, (labels) => labels.name);
    let wrapper = chartsArea.querySelector(`[data-chart="${chart.id}"]`);
    if (!wrapper) {
      wrapper = document.createElement("figure");
      wrapper.dataset.chart = chart.id;
      wrapper.className = "ops-chart";
      const caption = document.createElement("figcaption");
      caption.textContent = t(chart.title);
      wrapper.append(caption);
      chartsArea.append(wrapper);
    }
    wrapper.dataset.pointCount = String(columns.reduce((n, c) => n + c.values.filter((v) => v !== null).length, 0));
    const key = columns.map((c) => c.label).join("|");
    const known = plots.get(chart.id);
    const data = [xs, ...columns.map((c) => c.values)];
    if (known && known.key === key) {
      known.plot.setData(data);
      return;
    }
    known?.plot.destroy();
    wrapper.querySelector(".empty")?.remove();
    if (!columns.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = t("ops.no_series");
      wrapper.append(empty);
      plots.delete(chart.id);
      return;
    }
    const clock = times(); // the user's zone, as on every chart of the page
    const opts = {
      width: widthOf(wrapper),
      height: 160,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), clock.zone),
      scales: { x: { time: true } },
      legend: { live: true },
      series: [
        { label: t("chart.time"), value: (u, v) => (v === null || v === undefined ? "—" : clock.dateTime(v)) },
        ...columns.map((c, i) => ({ label: c.label, stroke: COLORS[i % COLORS.length], width: 1.5 })),
      ],
      axes: [
        { values: (u, splits, axis, space, incr) => clock.axis(splits, incr) },
        { size: 60, values: (u, ticks) => ticks.map((tick) => `${(+tick.toPrecision(3)).toLocaleString(currentLocale())}${chart.unit}`) },
      ],
    };
    plots.set(chart.id, { plot: new uPlot(opts, data, wrapper), key, wrapper });
  }

  return { connect, show, hide };
}

// A label value in the page's words where the catalogue has it (`page` -> "darurat"),
// else as Prometheus has it.
function word(prefix, value) {
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? value : text;
}

function widthOf(wrapper) {
  return Math.max(240, wrapper.clientWidth - 12);
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function emptyRow(span, text) {
  const tr = document.createElement("tr");
  const td = cell(text, "empty");
  td.colSpan = span;
  tr.append(td);
  return tr;
}
