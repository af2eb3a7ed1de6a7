"""``docs/performance.md`` from a bench result, with the SPEC's targets beside each figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _row(what: str, target: str, measured: str, met: bool | None) -> str:
    mark = {True: "met", False: "**missed**", None: "-"}[met]
    return f"| {what} | {target} | {measured} | {mark} |"


def write_markdown(path: Path, doc: dict[str, Any], source: Path) -> None:
    r = doc["results"]
    g, s, f, c = r["gateway_7500"], r["sustained"], r["freshness"], r["catch_up"]
    raw = r["raw_copy_dedupe"]
    rows = [
        _row(
            "gateway, one 7,500-reading POST, durable (acks=all)",
            "p50 ≤ 50 ms, p99 ≤ 100 ms",
            f"p50 {g['p50_ms']} ms, p99 {g['p99_ms']} ms ({g['requests']} requests)",
            g["p50_ms"] <= 50 and g["p99_ms"] <= 100,
        ),
        _row(
            "sustained ingest, HTTP → Kafka → TimescaleDB (8 values each)",
            "≥ 50,000 readings/s",
            f"{s['stored_per_second']:,} readings/s stored ({s['accepted_per_second']:,}/s "
            f"accepted)",
            s["stored_per_second"] >= 50_000,
        ),
        _row(
            "freshness, POST accepted → queryable, at half the sustained rate",
            "p99 ≤ 1 s",
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms at {f['rate_readings_per_second']:,}/s",
            f["p99_ms"] <= 1000,
        ),
        _row(
            "processor catch-up from a backlog",
            "≥ 70 % of raw COPY-with-dedupe",
            f"{c['readings_per_second']:,}/s vs raw {raw['readings_per_second']:,}/s = "
            f"{100 * c['ratio_to_raw']:.0f} %",
            c["ratio_to_raw"] >= 0.7,
        ),
    ]
    if "chart_year" in r:
        y, x = r["chart_year"], r["raw_export"]
        rows += [
            _row(
                "chart query, 1 year of 10 s data, 1 station",
                "≤ 200 ms to a completed job, ~1-2k points per sensor",
                f"p50 {y['p50_ms']} ms ({y['points_per_sensor']} points per sensor, "
                f"{y['runs']} runs)",
                y["p50_ms"] <= 200,
            ),
            _row(
                "raw export",
                "≥ 500,000 rows/s streamed",
                f"{x['rows_per_second']:,} rows/s written, {x['download_rows_per_second']:,} "
                f"rows/s downloaded ({x['rows']:,} rows)",
                x["rows_per_second"] >= 500_000,
            ),
        ]
    board = r.get("dashboard_year")
    if board and "p50_ms" in board:
        rows.append(
            _row(
                "dashboard: a year drawn in the browser (SPEC: users)",
                "about a second from Load to chart",
                f"p50 {board['p50_ms']} ms, max {board['max_ms']} ms ({board['points_drawn']:,} "
                f"points, {board['sensors']} sensors, {board['runs']} runs, Chromium)",
                board["p50_ms"] <= 1000,
            )
        )
    m = doc["machine"]
    text = f"""# Performance

Measured by `make bench` (all parts running: Kafka, TimescaleDB, gateway,
stream processors, simulator) on this machine: {m["cores"]} cores, {m["cpu"]},
Python {m["python"]}; the hypervisor took **{m["cpu_steal_percent"]} %** of the
CPU during the run (steal time). Commit `{doc["commit"]}`, {doc["finished_at"]},
{"quick run" if doc["quick"] else "full run"}. Raw figures: [`{source}`](../{source}).

| what | target | measured | |
|---|---|---|---|
{chr(10).join(rows)}

Medians and ratios come from one run; compare ratios across machines rather
than absolute figures. See the notes below for what bounds each missed target.
"""
    notes = path.with_name("performance-notes.md")
    if notes.exists():
        text += "\n" + notes.read_text()
    path.write_text(text)
