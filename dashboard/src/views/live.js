// The live view: the station's last minutes, from a snapshot then readings as they arrive
// over SSE, redrawn at most once a frame. A stream that ends is reopened.
import { ApiError } from "../api.js";
import { ago, livePanels, mergeReadings } from "../logic.js";
import { sleep } from "../sleep.js";
import { times } from "../times.js";
import { t } from "../i18n.js";

const LIVE_MINUTES = 10;

// `chosenSensors()` are the panels to draw; `onSensor(name)` hears of every sensor a
// reading names, as the station list may not know it yet.
export function liveView({ charts, chartNote, errors, chosenSensors, onSensor }) {
  let api = null;
  let live = null; // {controller, points: Map(ts -> values), station}: the stream on screen
  let frame = 0; // the pending animation frame, if any

  function stop() {
    live?.controller.abort();
    live = null;
  }

  // `lastSeen`: the station's newest stored reading (ISO), if the list knows it.
  async function start(station, lastSeen = null) {
    stop();
    if (!station) return;
    const mine = { controller: new AbortController(), points: new Map(), station };
    live = mine;
    charts.clear(waiting(lastSeen));
    chartNote.textContent = t("live.note", { minutes: LIVE_MINUTES });
    const path = `/v1/stations/${encodeURIComponent(station)}/live?minutes=${LIVE_MINUTES}`;
    while (live === mine) {
      try {
        for await (const event of api.events(path, mine.controller.signal)) {
          const { readings } = JSON.parse(event.data);
          for (const sensor of mergeReadings(mine.points, readings)) onSensor(sensor);
          schedule(mine);
        }
      } catch (error) {
        if (mine.controller.signal.aborted) return;
        if (error instanceof ApiError && error.status < 500) return errors.show(error);
      }
      if (live === mine) await sleep(2000); // the stream ended: reconnect
    }
  }

  function schedule(mine) {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (live === mine) redraw();
    });
  }

  function redraw() {
    if (!live) return;
    const horizon = Date.now() / 1000 - LIVE_MINUTES * 60;
    const panels = livePanels(live.points, chosenSensors(), horizon);
    if (panels.length) charts.draw(panels, "live", { start: horizon, end: Date.now() / 1000 });
  }

  function connect(signedIn) {
    api = signedIn;
  }

  return { connect, start, stop, redraw };
}

// What an empty live chart says: a silent station says when it last spoke.
function waiting(lastSeen) {
  if (!lastSeen) return t("live.waiting_none");
  const age = Date.now() - Date.parse(lastSeen);
  if (age < LIVE_MINUTES * 60_000) return t("live.waiting");
  return t("live.silent", { minutes: LIVE_MINUTES, ago: ago(age), when: times().dateTime(new Date(lastSeen)) });
}
