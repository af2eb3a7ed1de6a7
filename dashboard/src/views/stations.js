// The station list: health and last seen of each granted station, a filter, and which
// station is shown. Refreshed every 5 s; until the user picks one, the page does.
import { ApiError } from "../api.js";
import { times } from "../times.js";
import { ago, byHealth, byTrouble, countByHealth, stationShown, stationToShow } from "../logic.js";
import { t } from "../i18n.js";

const $ = (id) => document.getElementById(id);

// `onSelect(id, sensors, station)` shows a station; `inLiveMode()` lets the page move its own pick
// to a sending station (never in history mode, where it would drop the range's job).
export function stationsView({ inLiveMode, onSelect, onUnauthorized }) {
  const list = $("stations");
  const filter = $("station-filter");
  const note = $("stations-note");
  const title = $("station-title");
  let api = null;
  const stations = new Map(); // id -> station view from /v1/stations
  let selected = null;
  let autoPicked = false; // the station shown was chosen by the page, not the user
  let state = ""; // show only stations in this state ("" for all)
  const sort = $("station-sort");
  const toggle = $("stations-toggle");
  const panel = $("station-panel");
  const narrow = window.matchMedia("(max-width: 700px)");
  toggle.addEventListener("click", () => openDrawer(toggle.getAttribute("aria-expanded") !== "true"));

  // On a phone the list is a drawer: closed once a station is picked, to free the screen.
  function openDrawer(open) {
    toggle.setAttribute("aria-expanded", String(open));
    panel.classList.toggle("closed", !open); // only a phone's layout hides it
  }
  const stateButtons = [...document.querySelectorAll(".states button")];

  filter.addEventListener("input", () => applyFilter());
  sort.addEventListener("change", () => refresh());
  for (const button of stateButtons) {
    button.addEventListener("click", () => {
      state = state === button.dataset.state ? "" : button.dataset.state;
      for (const b of stateButtons) b.setAttribute("aria-pressed", String(b.dataset.state === state));
      applyFilter();
    });
  }

  async function connect(signedIn) {
    api = signedIn;
    await refresh();
    setInterval(refresh, 5000);
  }

  async function refresh() {
    let body;
    try {
      body = await api.get("/v1/stations");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return onUnauthorized();
      note.textContent = t("stations.not_refreshed", { message: error.message });
      return;
    }
    const now = Date.parse(body.as_of);
    note.textContent = body.stations.length ? "" : t("stations.none_granted");
    const counts = countByHealth(body.stations);
    for (const button of stateButtons) {
      button.querySelector(".n").textContent = String(counts[button.dataset.state]);
    }
    const order = sort.value === "trouble" ? byTrouble : byHealth;
    const items = [];
    for (const station of [...body.stations].sort(order)) {
      stations.set(station.station_id, station);
      items.push(item(station, now));
    }
    // The list is rebuilt; the station that had the keyboard's focus keeps it.
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.stationId : null;
    list.replaceChildren(...items);
    if (focused) {
      list.querySelector(`[data-station-id="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    }
    list.dataset.refreshes = String(Number(list.dataset.refreshes ?? 0) + 1);
    applyFilter();
    const pick = stationToShow({
      listed: body.stations,
      selected,
      autoPicked,
      inLiveMode: inLiveMode(),
      selectedHealth: stations.get(selected)?.health,
    });
    if (pick) select(pick, { picked: false });
  }

  function applyFilter() {
    const text = filter.value.trim();
    let shown = 0;
    for (const li of list.children) {
      const station = stations.get(li.dataset.stationId);
      li.hidden = !station || !stationShown(station, text, state);
      if (!li.hidden) shown++;
    }
    if (stations.size && !shown) {
      const words = { text, state: state && t(`health.${state}`) };
      const key = text && state ? "both" : text ? "text" : "state";
      note.textContent = t(`stations.no_match_${key}`, words);
    } else if (stations.size) {
      note.textContent = "";
    }
  }

  function item(station, now) {
    const li = document.createElement("li");
    li.setAttribute("data-testid", "station-item");
    li.dataset.stationId = station.station_id;
    li.dataset.health = station.health;
    li.tabIndex = 0;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(station.station_id === selected));
    li.classList.toggle("selected", station.station_id === selected);
    const mark = document.createElement("span");
    mark.classList.add("health", `health-${station.health}`);
    mark.setAttribute("aria-label", t(`health.${station.health}`));
    mark.title = t(`health.${station.health}`);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = station.station_id;
    const seen = document.createElement("span");
    seen.className = "seen";
    seen.textContent = station.last_seen ? ago(now - Date.parse(station.last_seen)) : t("stations.no_data");
    if (station.last_seen) seen.title = times().dateTime(new Date(station.last_seen));
    li.append(mark, name, seen);
    li.addEventListener("click", () => select(station.station_id));
    li.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        select(station.station_id);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault(); // a listbox's options are walked with the arrow keys
        const shown = [...list.children].filter((x) => !x.hidden);
        const next = shown[shown.indexOf(li) + (e.key === "ArrowDown" ? 1 : -1)];
        next?.focus();
      }
    });
    return li;
  }

  function select(id, { picked = true } = {}) {
    autoPicked = !picked;
    if (selected === id) return;
    selected = id;
    for (const li of list.children) {
      li.classList.toggle("selected", li.dataset.stationId === id);
      li.setAttribute("aria-selected", String(li.dataset.stationId === id));
    }
    title.textContent = id;
    if (picked && narrow.matches) openDrawer(false);
    toggle.textContent = t("stations.toggle_with", { id });
    onSelect(id, stations.get(id)?.sensors ?? [], stations.get(id) ?? null);
  }

  // A live reading named a sensor the station list did not know yet: the station's
  // sensors as they are now, or null when nothing changed.
  function learnSensor(sensor) {
    const station = stations.get(selected);
    if (!station || station.sensors.includes(sensor)) return null;
    station.sensors = [...station.sensors, sensor].sort();
    return station.sensors;
  }

  return {
    connect,
    selected: () => selected,
    selectedStation: () => stations.get(selected) ?? null,
    learnSensor,
  };
}
