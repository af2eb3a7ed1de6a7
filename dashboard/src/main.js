// The dashboard: sign in, pick a station, watch it live or load its history as a
// background job (progress, cancel, chart on completion). Nothing here waits on
// a query: history arrives as job events over SSE, with a slow poll as a safety net.
import "./style.css";
import { Api, ApiError } from "./api.js";
import { ago, alignSeries, byHealth } from "./logic.js";
import { Charts } from "./chart.js";

const TOKEN_KEY = "scada.token"; // sessionStorage: gone with the tab, never in a URL
const LIVE_MINUTES = 10;
const MAX_DRAWN_ROWS = 2_000_000; // beyond this a result is offered as CSV, not drawn
const PAGE_ROWS = 100_000;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

const $ = (id) => document.getElementById(id);
const ui = {
  signInForm: $("sign-in-form"),
  token: $("token"),
  signInError: $("sign-in-error"),
  who: $("who"),
  signOut: $("sign-out"),
  app: $("app"),
  stations: $("stations"),
  stationFilter: $("station-filter"),
  stationsNote: $("stations-note"),
  title: $("station-title"),
  modeLive: $("mode-live"),
  modeHistory: $("mode-history"),
  sensors: $("sensors"),
  history: $("history-controls"),
  start: $("range-start"),
  end: $("range-end"),
  resolution: $("resolution"),
  load: $("load-history"),
  job: $("job"),
  progress: $("progress"),
  jobStatus: $("job-status"),
  cancel: $("cancel"),
  download: $("download"),
  error: $("error"),
  chart: $("chart"),
  chartNote: $("chart-note"),
};

const state = {
  api: null,
  stations: new Map(), // id -> station view from /v1/stations
  station: null,
  autoPicked: false, // the station shown was chosen by the page, not the user
  sensors: [],
  mode: "live",
  live: null, // {controller, points: Map(ts -> values)}
  job: null, // {id, status, rows}
  events: null, // AbortController of the job-event stream
  refresh: null,
};
const charts = new Charts(ui.chart);

// ---- sign in -------------------------------------------------------------

ui.signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  await signIn(ui.token.value.trim());
});
ui.signOut.addEventListener("click", () => signOut());

async function signIn(token) {
  if (!token) return;
  const api = new Api(token);
  try {
    const me = await api.get("/v1/me");
    sessionStorage.setItem(TOKEN_KEY, token);
    state.api = api;
    ui.token.value = "";
    ui.signInError.hidden = true;
    ui.signInForm.hidden = true;
    ui.app.hidden = false;
    ui.who.hidden = ui.signOut.hidden = false;
    ui.who.textContent = `${me.name} · ${me.org_id}`;
    followJobEvents();
    await refreshStations();
    state.refresh = setInterval(refreshStations, 5000);
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignInError(error);
  }
}

function showSignInError(error) {
  ui.signInError.hidden = false;
  ui.signInError.textContent =
    error instanceof ApiError && error.status === 401
      ? `Sign-in refused: ${error.message}.`
      : `Cannot reach the API: ${error.message}`;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

// ---- stations --------------------------------------------------------------

async function refreshStations() {
  let body;
  try {
    body = await state.api.get("/v1/stations");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut();
    ui.stationsNote.textContent = `Station list not refreshed: ${error.message}`;
    return;
  }
  const now = Date.parse(body.as_of);
  ui.stationsNote.textContent = body.stations.length ? "" : "No stations granted to you yet.";
  const items = [];
  for (const station of [...body.stations].sort(byHealth)) {
    state.stations.set(station.station_id, station);
    items.push(stationItem(station, now));
  }
  ui.stations.replaceChildren(...items);
  filterStations();
  // Until the user picks one, show a station that is sending: on a fresh start none
  // may be yet, so the choice is revisited at each refresh.
  const live = body.stations.find((s) => s.health === "live");
  const current = state.stations.get(state.station);
  if (!state.station && body.stations.length) {
    selectStation((live || body.stations[0]).station_id, { picked: false });
  } else if (state.autoPicked && state.mode === "live" && live && current?.health !== "live") {
    selectStation(live.station_id, { picked: false });
  }
}

ui.stationFilter.addEventListener("input", () => filterStations());

function filterStations() {
  const text = ui.stationFilter.value.trim().toLowerCase();
  for (const li of ui.stations.children) {
    li.hidden = Boolean(text) && !li.dataset.stationId.toLowerCase().includes(text);
  }
}

function stationItem(station, now) {
  const li = document.createElement("li");
  li.setAttribute("data-testid", "station-item");
  li.dataset.stationId = station.station_id;
  li.dataset.health = station.health;
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.classList.toggle("selected", station.station_id === state.station);
  const mark = document.createElement("span");
  mark.className = `health health-${station.health}`;
  mark.setAttribute("aria-label", station.health);
  mark.title = station.health;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = station.station_id;
  const seen = document.createElement("span");
  seen.className = "seen";
  seen.textContent = station.last_seen ? ago(now - Date.parse(station.last_seen)) : "no data";
  if (station.last_seen) seen.title = new Date(station.last_seen).toLocaleString();
  li.append(mark, name, seen);
  li.addEventListener("click", () => selectStation(station.station_id));
  li.addEventListener("keydown", (e) => e.key === "Enter" && selectStation(station.station_id));
  return li;
}

function selectStation(id, { picked = true } = {}) {
  state.autoPicked = !picked;
  if (state.station === id) return;
  state.station = id;
  for (const li of ui.stations.children) li.classList.toggle("selected", li.dataset.stationId === id);
  ui.title.textContent = id;
  const known = state.stations.get(id)?.sensors ?? [];
  const chosen = state.sensors.filter((s) => known.includes(s));
  state.sensors = chosen.length ? chosen : defaultSensors(known);
  renderSensors(known);
  clearError();
  resetJob();
  if (state.mode === "live") startLive();
  else charts.clear("Pick a range and press Load.");
}

function defaultSensors(known) {
  if (known.includes("temperature")) return ["temperature"];
  return known.slice(0, 1);
}

function renderSensors(known) {
  const legend = ui.sensors.querySelector("legend");
  const boxes = known.map((sensor) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = sensor;
    box.setAttribute("data-testid", `sensor-${sensor}`);
    box.checked = state.sensors.includes(sensor);
    box.addEventListener("change", () => {
      state.sensors = [...ui.sensors.querySelectorAll("input:checked")].map((b) => b.value);
      if (state.mode === "live") drawLive();
    });
    label.append(box, " ", sensor);
    return label;
  });
  ui.sensors.replaceChildren(legend, ...boxes);
  if (!known.length) ui.sensors.append("This station has sent no readings yet.");
}

// ---- modes -----------------------------------------------------------------

ui.modeLive.addEventListener("click", () => setMode("live"));
ui.modeHistory.addEventListener("click", () => setMode("history"));

function setMode(mode) {
  if (state.mode === mode) return;
  state.mode = mode;
  ui.modeLive.setAttribute("aria-selected", String(mode === "live"));
  ui.modeHistory.setAttribute("aria-selected", String(mode === "history"));
  ui.history.hidden = mode !== "history";
  clearError();
  if (mode === "live") {
    startLive();
  } else {
    stopLive();
    if (!ui.start.value) setPreset(1);
    charts.clear("Pick a range and press Load.");
    ui.chartNote.textContent = "";
  }
}

// ---- live ------------------------------------------------------------------

function stopLive() {
  state.live?.controller.abort();
  state.live = null;
}

async function startLive() {
  stopLive();
  if (!state.station) return;
  const live = { controller: new AbortController(), points: new Map(), station: state.station };
  state.live = live;
  charts.clear("Waiting for readings…");
  ui.chartNote.textContent = `Live: the last ${LIVE_MINUTES} minutes, as readings arrive.`;
  const path = `/v1/stations/${encodeURIComponent(live.station)}/live?minutes=${LIVE_MINUTES}`;
  while (state.live === live) {
    try {
      for await (const event of state.api.events(path, live.controller.signal)) {
        const frame = JSON.parse(event.data);
        for (const [ts, values] of frame.readings) {
          live.points.set(ts, { ...live.points.get(ts), ...values });
          for (const sensor of Object.keys(values)) addSensor(sensor);
        }
        scheduleLiveDraw(live);
      }
    } catch (error) {
      if (live.controller.signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) return showError(error);
    }
    if (state.live === live) await sleep(2000); // the stream ended: reconnect
  }
}

function addSensor(sensor) {
  const station = state.stations.get(state.station);
  if (station && !station.sensors.includes(sensor)) {
    station.sensors = [...station.sensors, sensor].sort();
    if (!state.sensors.length) state.sensors = defaultSensors(station.sensors);
    renderSensors(station.sensors);
  }
}

let liveFrame = 0;
function scheduleLiveDraw(live) {
  if (liveFrame) return;
  liveFrame = requestAnimationFrame(() => {
    liveFrame = 0;
    if (state.live === live) drawLive();
  });
}

function drawLive() {
  const live = state.live;
  if (!live) return;
  const horizon = Date.now() / 1000 - LIVE_MINUTES * 60;
  for (const ts of live.points.keys()) if (ts < horizon) live.points.delete(ts);
  const xs = [...live.points.keys()].sort((a, b) => a - b);
  if (!xs.length || !state.sensors.length) return;
  const panels = state.sensors.map((sensor) => ({
    sensor,
    aggregated: false,
    xs,
    values: xs.map((ts) => live.points.get(ts)[sensor] ?? null),
  }));
  charts.draw(panels, "live");
}

// ---- history -----------------------------------------------------------------

for (const button of ui.history.querySelectorAll("[data-days]")) {
  button.addEventListener("click", () => setPreset(Number(button.dataset.days)));
}

function setPreset(days) {
  const end = new Date();
  const start = new Date(end.getTime() - days * 86400_000);
  ui.start.value = localInput(start);
  ui.end.value = localInput(end);
  for (const b of ui.history.querySelectorAll("[data-days]")) {
    b.classList.toggle("active", Number(b.dataset.days) === days);
  }
}

function localInput(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

ui.load.addEventListener("click", () => loadHistory());
ui.cancel.addEventListener("click", () => cancelJob());
ui.download.addEventListener("click", () => downloadCsv());

async function loadHistory() {
  clearError();
  if (!state.station) return showError(new Error("choose a station first"));
  if (!state.sensors.length) return showError(new Error("choose at least one sensor"));
  const start = new Date(ui.start.value);
  const end = new Date(ui.end.value);
  if (!(start < end)) return showError(new Error("the range must start before it ends"));
  resetJob();
  ui.job.hidden = false;
  setProgress(0, "submitting…");
  ui.cancel.disabled = true;
  let created;
  try {
    created = await state.api.request("POST", "/v1/historical-jobs", {
      stations: [state.station],
      sensors: state.sensors,
      start: start.toISOString(),
      end: end.toISOString(),
      resolution: ui.resolution.value,
    });
  } catch (error) {
    setProgress(0, `failed: ${error.message}`);
    return showError(error);
  }
  const job = { id: created.job_id, status: created.status, rows: 0, sensors: [...state.sensors] };
  state.job = job;
  ui.cancel.disabled = false;
  onJobStatus(job, created.status, {});
  const news = early.get(job.id);
  if (news) onJobStatus(job, news.type, news);
  pollJob(job);
}

function resetJob() {
  state.job = null;
  ui.job.hidden = true;
  ui.download.hidden = true;
  ui.chartNote.textContent = "";
}

function setProgress(fraction, text) {
  const percent = Math.round(fraction * 100);
  ui.progress.setAttribute("aria-valuenow", String(percent));
  ui.progress.firstElementChild.style.width = `${percent}%`;
  ui.jobStatus.textContent = text;
}

// One place decides what a status means on screen, whichever way it arrived.
function onJobStatus(job, status, detail) {
  if (state.job !== job || job.shown) return; // a finished job's screen stays as it is
  if (status === "queued" && job.status === "running") return; // a late copy of old news
  job.status = status;
  if (detail.rows_done !== undefined) job.rows = detail.rows_done;
  if (status === "queued") setProgress(0, "queued: waiting for a worker…");
  else if (status === "running" || status === "progress") {
    job.status = "running";
    const p = detail.progress ?? 0;
    setProgress(p, `running: ${Math.round(p * 100)} % (${job.rows.toLocaleString()} rows)`);
  } else if (status === "completed") {
    job.shown = true;
    ui.cancel.disabled = true;
    setProgress(1, "completed: fetching the result…");
    drawResult(job);
  } else if (status === "cancelled") {
    job.shown = true;
    ui.cancel.disabled = true;
    setProgress(Number(ui.progress.getAttribute("aria-valuenow")) / 100, "cancelled");
  } else if (status === "failed") {
    job.shown = true;
    ui.cancel.disabled = true;
    const why = detail.detail || detail.reason || detail.error || "unknown reason";
    setProgress(0, `failed: ${why}`);
    showError(new Error(`The history job failed: ${why}`));
  }
}

async function followJobEvents() {
  state.events?.abort();
  const controller = new AbortController();
  state.events = controller;
  let lastId = null;
  while (!controller.signal.aborted) {
    try {
      for await (const event of state.api.events("/v1/events", controller.signal, lastId)) {
        if (event.id) lastId = event.id;
        const data = JSON.parse(event.data);
        if (state.job && data.job_id === state.job.id) {
          onJobStatus(state.job, data.type, data);
        } else {
          remember(data); // may belong to a job whose POST answer is still on its way
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) return signOut();
    }
    await sleep(2000);
  }
}

const early = new Map(); // job id -> its latest event not yet claimed by a job on screen
function remember(data) {
  early.delete(data.job_id);
  early.set(data.job_id, data);
  if (early.size > 50) early.delete(early.keys().next().value);
}

// The event stream carries the news; this slow poll only covers a stream that dropped.
async function pollJob(job) {
  while (state.job === job && !TERMINAL.has(job.status)) {
    await sleep(2000);
    if (state.job !== job || TERMINAL.has(job.status)) return;
    try {
      const view = await state.api.get(`/v1/historical-jobs/${job.id}`);
      if (view.status !== job.status || view.status === "running") {
        onJobStatus(job, view.status, {
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

async function cancelJob() {
  const job = state.job;
  if (!job || TERMINAL.has(job.status)) return;
  ui.cancel.disabled = true;
  ui.jobStatus.textContent = "cancelling…";
  try {
    const answer = await state.api.request("DELETE", `/v1/historical-jobs/${job.id}`);
    if (TERMINAL.has(answer.status)) onJobStatus(job, answer.status, {});
  } catch (error) {
    ui.cancel.disabled = false;
    showError(error);
  }
}

async function drawResult(job) {
  let rows;
  try {
    rows = (await state.api.get(`/v1/historical-jobs/${job.id}`)).rows_done;
  } catch (error) {
    setProgress(1, `failed: ${error.message}`);
    return showError(error);
  }
  if (state.job !== job) return;
  if (rows > MAX_DRAWN_ROWS) {
    charts.clear(`${rows.toLocaleString()} rows are more than a chart can show; download the CSV.`);
    ui.download.hidden = false;
    setProgress(1, `completed: ${rows.toLocaleString()} rows`);
    return;
  }
  const started = performance.now();
  const series = new Map(); // sensor -> points
  let columns = null;
  try {
    let offset = 0;
    while (offset !== null) {
      const page = await state.api.get(
        `/v1/historical-jobs/${job.id}/result?offset=${offset}&limit=${PAGE_ROWS}`,
      );
      columns = page.columns;
      for (const s of page.series) {
        const points = series.get(s.sensor) ?? [];
        for (const p of s.points) points.push(p);
        series.set(s.sensor, points);
      }
      offset = page.next_offset;
      if (state.job !== job) return;
    }
  } catch (error) {
    setProgress(1, `failed: ${error.message}`);
    return showError(error);
  }
  if (state.job !== job || state.mode !== "history") return;
  const aggregated = columns !== null && columns.includes("avg");
  const panels = alignSeries(job.sensors, series, aggregated);
  if (!panels.length || !panels[0].xs.length) {
    charts.clear("No readings in this range.");
  } else {
    charts.draw(panels, "history");
  }
  ui.download.hidden = false;
  const points = Number(ui.chart.dataset.pointCount);
  const ms = Math.round(performance.now() - started);
  setProgress(1, `completed: ${points.toLocaleString()} points drawn`);
  ui.chartNote.textContent = `${rows.toLocaleString()} rows fetched and drawn in ${ms} ms.`;
}

async function downloadCsv() {
  const job = state.job;
  if (!job) return;
  try {
    const blob = await state.api.blob(`/v1/historical-jobs/${job.id}/result`, "text/csv");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${state.station}-${job.id}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    showError(error);
  }
}

// ---- misc ----------------------------------------------------------------

function showError(error) {
  ui.error.hidden = false;
  ui.error.textContent =
    error instanceof ApiError && error.status === 403
      ? `Not allowed: ${error.message}.`
      : error.message;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
