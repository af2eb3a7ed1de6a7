// The dashboard: sign in, pick a station, watch it live or load its history as a
// background job; operators also see the pipeline's health (Operations). Each view owns
// its state; this composition root only creates them and wires what one asks of another,
// so every such dependency is visible here. Views are in views/; the pure logic they
// share (logic.js, jobs.js, operations.js) is unit-tested in test/.
import "./style.css";
import { catalogue } from "./catalogue.js";
import { Charts } from "./chart.js";
import { errorLine } from "./views/error-line.js";
import { historyView } from "./views/history.js";
import { languageView } from "./views/language.js";
import { liveView } from "./views/live.js";
import { modesView } from "./views/modes.js";
import { operationsView } from "./views/operations.js";
import { sensorsView } from "./views/sensors.js";
import { sessionView, signOut } from "./views/session.js";
import { stationsView } from "./views/stations.js";
import { viewsView } from "./views/views.js";
import { t } from "./i18n.js";

// The page speaks the browser's language from the start (the sign-in form), the user's
// once signed in.
const language = languageView();
language.start();

// The organisation's sensor catalogue (names, units, kinds), read at sign-in.
let describe = catalogue([]);
const describeSensor = (sensor) => describe(sensor);
// The chart area and the error line are shared: live and history take turns in them.
const charts = new Charts(document.getElementById("chart"), describeSensor);
const chartNote = document.getElementById("chart-note");
const errors = errorLine(document.getElementById("error"));

const inLiveMode = () => modes.current() === "live";
const modes = modesView({ onChange: showMode });
const sensors = sensorsView({
  onChange: () => {
    if (!sensors.chosen().length) {
      history.reset();
      charts.clear(t("sensors.choose_one_to_draw"));
    } else if (inLiveMode()) {
      live.redraw();
    } else {
      history.reset(); // the chart drawn was of other sensors
      history.prompt(t("history.press_load_chosen"));
    }
  },
  describe: describeSensor,
});
const stations = stationsView({ inLiveMode, onSelect: showStation, onUnauthorized: signOut });
const live = liveView({
  charts,
  chartNote,
  errors,
  chosenSensors: () => sensors.chosen(),
  onSensor: (sensor) => {
    const known = stations.learnSensor(sensor);
    if (known) sensors.learn(known);
  },
});
const history = historyView({
  charts,
  chartNote,
  errors,
  station: () => stations.selected(),
  sensors: () => sensors.chosen(),
  isShown: () => modes.current() === "history",
  onUnauthorized: signOut,
});
const operations = operationsView({ onUnauthorized: signOut });
// Stations (live and history) or Operations; the latter only for the operator role.
const views = viewsView({
  onChange: (view) => {
    if (view === "operations") operations.show();
    else operations.hide();
  },
});
const session = sessionView({
  onMe: (api, me) => language.signedIn(api, me),
  // After a language pick's reload, on the button pressed; else on the station filter.
  focus: () => language.restoreFocus() || document.getElementById("station-filter").focus(),
  // Live and history first: the first station list may already pick a station to show.
  onSignedIn: async (api, me) => {
    try {
      describe = catalogue((await api.get("/v1/sensors")).sensors);
    } catch {
      describe = catalogue([]); // no catalogue: sensors by their own names, still usable
    }
    live.connect(api);
    history.connect(api);
    operations.connect(api);
    await stations.connect(api);
    views.allow(me.roles.includes("operator"));
  },
});

function showStation(id, known, station) {
  sensors.show(known);
  errors.clear();
  history.reset();
  if (inLiveMode()) live.start(id, station?.last_seen ?? null);
  else history.prompt();
}

function showMode(mode) {
  errors.clear();
  if (mode === "live") {
    history.hide();
    live.start(stations.selected(), stations.selectedStation()?.last_seen ?? null);
  } else {
    live.stop();
    history.show();
  }
}

if (!session.resume()) language.restoreFocus();
