// Charts: one uPlot per sensor, stacked, sharing the time axis and the cursor.
// Aggregated series draw their average with a min-max band around it.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

export class Charts {
  constructor(element) {
    this.element = element;
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
  }

  // panels: [{sensor, aggregated, xs, values | {avg, min, max}}] all with the same xs.
  draw(panels, mode) {
    const key = mode + "|" + panels.map((p) => `${p.sensor}:${p.aggregated}`).join(",");
    if (key !== this.key) {
      this.clear();
      this.key = key;
      this.height = panels.length === 1 ? 320 : panels.length === 2 ? 230 : 180;
      panels.forEach((panel, i) => this.plots.push(this.create(panel, i)));
    } else {
      panels.forEach((panel, i) => this.plots[i].setData(data(panel)));
    }
    let points = 0;
    for (const panel of panels) {
      const main = panel.aggregated ? panel.avg : panel.values;
      for (const v of main) if (v !== null && v !== undefined) points++;
    }
    this.element.dataset.mode = mode;
    this.element.dataset.pointCount = String(points);
    this.element.dataset.seriesCount = String(panels.length);
  }

  create(panel, i) {
    const color = COLORS[i % COLORS.length];
    const series = [{}];
    const opts = {
      width: this.width(),
      height: this.height,
      cursor: { sync: { key: this.sync.key }, drag: { x: true, y: false } },
      scales: { x: { time: true } },
      legend: { live: true },
      series,
      axes: [{}, { size: 60 }],
    };
    if (panel.aggregated) {
      series.push(
        { label: `${panel.sensor} avg`, stroke: color, width: 1.5, spanGaps: false },
        { label: "min", stroke: color + "55", width: 0.5 },
        { label: "max", stroke: color + "55", width: 0.5 },
      );
      opts.bands = [{ series: [3, 2], fill: color + "22" }];
    } else {
      series.push({ label: panel.sensor, stroke: color, width: 1.5, spanGaps: false });
    }
    const wrapper = document.createElement("div");
    wrapper.className = "panel";
    wrapper.dataset.sensor = panel.sensor;
    this.element.append(wrapper);
    return new uPlot(opts, data(panel), wrapper);
  }

  width() {
    return Math.max(320, this.element.clientWidth - 8);
  }

  resize() {
    for (const plot of this.plots) plot.setSize({ width: this.width(), height: this.height });
  }
}

function data(panel) {
  return panel.aggregated
    ? [panel.xs, panel.avg, panel.min, panel.max]
    : [panel.xs, panel.values];
}
