// Charts: one uPlot per sensor, stacked, sharing the time axis and the cursor. Each is
// drawn as its kind asks (catalogue.js): means with a min-max band, sums as bars,
// directions as points (a line or band across north would cross the whole axis), and
// every value outside the sensor's valid range marked in red.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { drawing, formatValue, outOfRange } from "./catalogue.js";
import { times } from "./times.js";
import { t } from "./i18n.js";

const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

const FLAG = "#dc2626";

export class Charts {
  // `describe(sensor)`: the catalogue's description (name, unit, kind, valid range).
  constructor(element, describe) {
    this.element = element;
    this.describe = describe;
    this.onZoom = null; // (from: Date, to: Date) => …, for a drag on a history chart
    this.span = null; // the time the axis covers at least (draw())
    this.mode = "";
    this.plots = [];
    this.key = "";
    this.height = 180;
    this.sync = uPlot.sync("scada");
    new ResizeObserver(() => this.resize()).observe(element);
  }

  clear(note = "") {
    for (const plot of this.plots) plot.destroy();
    this.plots = [];
    this.key = "";
    this.element.replaceChildren();
    if (note) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = note;
      this.element.append(p);
    }
    this.element.dataset.pointCount = "0";
    this.element.dataset.seriesCount = "0";
    this.element.setAttribute("aria-label", note || t("chart.none"));
  }

  // panels: [{sensor, aggregated, xs, values | {avg, min, max}}] all with the same xs;
  // `span` ({start, end}, seconds): the time the axis covers at least (live: the last
  // minutes, so that one reading is a point in them, not a point in a span of years).
  draw(panels, mode, axisSpan = null) {
    this.mode = mode;
    const xs = panels[0].xs;
    // The span and every reading drawn (one from a clock ahead of ours, say).
    this.span = axisSpan && {
      start: Math.min(axisSpan.start, xs[0] ?? axisSpan.start),
      end: Math.max(axisSpan.end, xs[xs.length - 1] ?? axisSpan.end),
    };
    const key = mode + "|" + panels.map((p) => `${p.sensor}:${p.aggregated}:${this.describe(p.sensor).kind}`).join(",");
    if (key !== this.key) {
      this.clear();
      this.key = key;
      this.height = panels.length === 1 ? 320 : panels.length === 2 ? 230 : 180;
      panels.forEach((panel, i) => this.plots.push(this.create(panel, i)));
    } else {
      panels.forEach((panel, i) => this.plots[i].setData(this.data(panel)));
    }
    let points = 0;
    let flagged = 0;
    for (const panel of panels) {
      const description = this.describe(panel.sensor);
      const main = panel[drawing(description.kind, panel.aggregated).column];
      for (const v of main) if (v !== null && v !== undefined) points++;
      if (!panel.aggregated) for (const v of outOfRange(description, main)) if (v !== null) flagged++;
    }
    this.element.dataset.flaggedCount = String(flagged);
    // The text alternative: what is drawn, over when, how many points, what is flagged.
    const clock = times();
    const span = xs.length
      ? t("chart.span", { from: clock.dateTime(xs[0]), to: clock.dateTime(xs[xs.length - 1]), zone: clock.zone })
      : "";
    const names = panels.map((p) => this.describe(p.sensor).label).join(", ");
    const flags = flagged ? t("chart.flagged", { n: flagged }) : "";
    this.element.setAttribute("aria-label", t(`chart.label_${mode}`, { names, span, points, flags }));
    this.element.dataset.mode = mode;
    this.element.dataset.pointCount = String(points);
    this.element.dataset.seriesCount = String(panels.length);
  }

  create(panel, i) {
    const color = COLORS[i % COLORS.length];
    const description = this.describe(panel.sensor);
    const how = drawing(description.kind, panel.aggregated);
    // The time axis, the legend's time and the ticks' placement, all in the user's zone.
    const clockNow = times();
    const series = [{ label: t("chart.time"), value: (u, v) => (v === null || v === undefined ? "—" : clockNow.dateTime(v)) }];
    const opts = {
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), clockNow.zone),
      width: this.width(),
      height: this.height,
      cursor: { sync: { key: this.sync.key }, drag: { x: true, y: false } },
      hooks: { setSelect: [(u) => this.zoomed(u)] },
      scales: { x: { time: true, range: (u, min, max) => this.xRange(min, max) } },
      legend: { live: true },
      series,
      axes: [{ values: (u, splits, axis, space, incr) => clockNow.axis(splits, incr) },
             { size: 70, label: description.label, labelSize: 18,
                   values: (u, ticks) => ticks.map((tick) => formatValue(description, tick)) }],
    };
    const value = (u, v) => formatValue(description, v);
    const main = { label: description.label, stroke: color, width: 1.5, spanGaps: false, value };
    if (how.style === "bars") {
      Object.assign(main, { fill: color + "88", paths: uPlot.paths.bars({ size: [0.8, 40] }) });
    } else if (how.style === "points") {
      Object.assign(main, { paths: () => null, points: { show: true, size: 4, fill: color } });
    }
    series.push(main);
    if (how.band) {
      main.label = t("chart.avg", { label: description.label });
      series.push(
        { label: t("chart.min"), stroke: color + "55", width: 0.5, value },
        { label: t("chart.max"), stroke: color + "55", width: 0.5, value },
      );
      opts.bands = [{ series: [3, 2], fill: color + "22" }];
    } else if (!panel.aggregated) {
      series.push({ label: t("chart.out_of_range"), stroke: FLAG, paths: () => null, value,
                    points: { show: true, size: 7, stroke: FLAG, fill: FLAG } });
    }
    const wrapper = document.createElement("div");
    wrapper.className = "panel";
    wrapper.dataset.sensor = panel.sensor;
    wrapper.dataset.kind = description.kind;
    wrapper.dataset.style = how.style;
    this.element.append(wrapper);
    return new uPlot(opts, this.data(panel), wrapper);
  }

  // A drag selected part of the time axis: in history mode, the page loads that range.
  // Only the chart dragged on has the mouse event: the others follow the shared cursor
  // (their setSelect runs too), and must not ask for the range a second time.
  zoomed(u) {
    if (!u.cursor.event) return;
    if (this.mode !== "history" || !this.onZoom || u.select.width < 2) return;
    const from = u.posToVal(u.select.left, "x");
    const to = u.posToVal(u.select.left + u.select.width, "x");
    this.onZoom(new Date(from * 1000), new Date(to * 1000));
  }

  // The x scale: the span asked for, whatever uPlot made of the data (of a single point
  // it makes a thousand days: 86400 / ms for seconds).
  xRange(min, max) {
    return this.span ? [this.span.start, this.span.end] : [min, max];
  }

  width() {
    return Math.max(320, this.element.clientWidth - 8);
  }

  // The columns a panel's plot takes, in the order create() added its series.
  data(panel) {
    const description = this.describe(panel.sensor);
    const how = drawing(description.kind, panel.aggregated);
    if (how.band) return [panel.xs, panel.avg, panel.min, panel.max];
    const main = panel[how.column];
    if (panel.aggregated) return [panel.xs, main];
    return [panel.xs, main, outOfRange(description, main)];
  }

  resize() {
    for (const plot of this.plots) plot.setSize({ width: this.width(), height: this.height });
  }
}
