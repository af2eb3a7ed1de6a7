"""``scada soak``: the pipeline under steady load for minutes, watched for slow leaks.

Posts readings at a steady rate (half the sustained rate ``make bench``
measured, by default), keeps a dashboard's live stream open and runs a chart
job every 20 s, while sampling every ``sample_every`` seconds: the resident
memory of each watched process, the sink group's lag, and ERROR lines in the
watched logs. The verdict: each process's RSS stays within ±20 % of its value
at the end of warm-up (the first fifth), lag stays bounded, no ERROR lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from base.kafka_operations import consumer_lag
from tooling.simulator.weather import SENSORS

RSS_TOLERANCE = 0.20
WARM_UP_FRACTION = 0.2
READINGS_PER_POST = 1000


@dataclass(frozen=True)
class SoakTarget:
    """Where the pipeline is and what to watch."""

    gateway_url: str
    api_url: str
    write_token: str
    user_token: str
    kafka_bootstrap: str
    sink_group: str
    processes: dict[str, int]
    """Name → pid of each process whose memory is watched."""
    logs: list[Path] = field(default_factory=list)


@dataclass
class SoakReport:
    minutes: float
    rate: float
    posted: int = 0
    refused: int = 0
    live_frames: int = 0
    jobs_completed: int = 0
    jobs_failed: int = 0
    rss: dict[str, list[int]] = field(default_factory=dict)
    lag_messages: list[int] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    error_lines: int = 0

    def rss_drift(self) -> dict[str, float]:
        """Per process: the largest relative distance from its RSS at the end of warm-up."""
        drift = {}
        for name, samples in self.rss.items():
            if len(samples) < 2:
                continue
            settled = samples[int(len(samples) * WARM_UP_FRACTION) :]
            base = settled[0]
            drift[name] = max(abs(s - base) / base for s in settled) if base else 0.0
        return drift

    def verdict(self) -> list[str]:
        """What went wrong; empty when the soak passed."""
        problems = [
            f"{name}: RSS moved {drift:.0%} after warm-up (allowed {RSS_TOLERANCE:.0%})"
            for name, drift in self.rss_drift().items()
            if drift > RSS_TOLERANCE
        ]
        if self.error_lines:
            problems.append(f"{self.error_lines} ERROR lines in the logs")
        if self.refused:
            problems.append(f"{self.refused} POSTs were not accepted")
        if self.lag_seconds and self.lag_seconds[-1] > 30:
            problems.append(f"the sink ended {self.lag_seconds[-1]:.0f} s behind")
        if self.jobs_failed:
            problems.append(f"{self.jobs_failed} chart jobs failed")
        return problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "rate_readings_per_second": self.rate,
            "posted_readings": self.posted,
            "refused_posts": self.refused,
            "live_frames": self.live_frames,
            "jobs_completed": self.jobs_completed,
            "jobs_failed": self.jobs_failed,
            "rss_mib": {
                name: {
                    "warm": round(s[int(len(s) * WARM_UP_FRACTION)] / 2**20, 1),
                    "min": round(min(s) / 2**20, 1),
                    "max": round(max(s) / 2**20, 1),
                    "end": round(s[-1] / 2**20, 1),
                }
                for name, s in self.rss.items()
                if s
            },
            "rss_drift": {k: round(v, 3) for k, v in self.rss_drift().items()},
            "lag_messages_max": max(self.lag_messages, default=0),
            "lag_seconds_max": round(max(self.lag_seconds, default=0.0), 2),
            "lag_seconds_end": round(self.lag_seconds[-1], 2) if self.lag_seconds else 0.0,
            "error_lines": self.error_lines,
            "problems": self.verdict(),
        }


def live_station(station: str) -> str:
    """The soak's station that sends readings of now, whose live chart the soak watches."""
    return f"{station}-live"


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _error_lines(paths: list[Path], since: dict[Path, int]) -> int:
    """ERROR lines written to ``paths`` past the byte offsets in ``since``."""
    count = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
            handle.seek(since.get(path, 0))
            count += sum(1 for line in handle if b" ERROR " in line)
    return count


async def soak(
    target: SoakTarget,
    *,
    minutes: float,
    rate: float,
    say: Callable[[str], None],
    sample_every: float = 10.0,
) -> SoakReport:
    report = SoakReport(minutes, rate)
    report.rss = {name: [] for name in target.processes}
    offsets = {p: p.stat().st_size for p in target.logs if p.exists()}
    station = f"SOAK-{int(time.time())}"
    deadline = time.monotonic() + minutes * 60
    async with (
        httpx.AsyncClient(base_url=target.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=target.api_url, timeout=30) as api,
    ):
        tasks = [
            asyncio.create_task(_post(gateway, target, station, rate, deadline, report)),
            asyncio.create_task(_watch_live(api, target, station, deadline, report)),
            asyncio.create_task(_chart_jobs(api, target, station, deadline, report)),
        ]
        try:
            while time.monotonic() < deadline:
                await _sample(target, report)
                say(
                    f"soak: {report.posted:,} readings posted, RSS "
                    + ", ".join(f"{n} {s[-1] / 2**20:.0f} MiB" for n, s in report.rss.items() if s)
                    + f", lag {report.lag_seconds[-1] if report.lag_seconds else 0:.1f} s"
                )
                await asyncio.sleep(min(sample_every, max(0.0, deadline - time.monotonic())))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await _sample(target, report)
    report.error_lines = _error_lines(target.logs, offsets)
    return report


async def _sample(target: SoakTarget, report: SoakReport) -> None:
    for name, pid in target.processes.items():
        rss = rss_bytes(pid)
        if rss is not None:
            report.rss[name].append(rss)
    try:
        lag = await consumer_lag(target.kafka_bootstrap, [target.sink_group])
    except Exception:  # a lag read that fails is a missing sample, not a failed soak
        return
    report.lag_messages.append(sum(p.messages for p in lag))
    report.lag_seconds.append(max((p.seconds for p in lag), default=0.0))


async def _post(
    gateway: httpx.AsyncClient,
    target: SoakTarget,
    station: str,
    rate: float,
    deadline: float,
    report: SoakReport,
) -> None:
    """``READINGS_PER_POST`` readings per POST, paced to ``rate``, on fresh instants."""
    stations = [f"{station}-{i}" for i in range(4)]
    headers = {"authorization": f"Bearer {target.write_token}", "content-type": "application/json"}
    every = READINGS_PER_POST / rate
    # A second apart per station, starting far enough back that the run never reaches now.
    span = (deadline - time.monotonic()) * rate / len(stations)
    cursor = datetime.now(UTC) - timedelta(seconds=span * 1.1 + 3600)
    started = time.monotonic()
    n = 0
    while time.monotonic() < deadline:
        readings = []
        for i in range(READINGS_PER_POST - 1):
            ts = cursor + timedelta(seconds=i // len(stations))
            values = {s: round(20 + (i % 89) * 0.1 + k, 2) for k, s in enumerate(SENSORS)}
            readings.append({"station_id": stations[i % 4], "ts": ts.isoformat(), "values": values})
        # One reading of now, for the live chart (which shows the last minutes only).
        values = {s: round(20 + n % 89 * 0.1 + k, 2) for k, s in enumerate(SENSORS)}
        readings.append(
            {
                "station_id": live_station(station),
                "ts": datetime.now(UTC).isoformat(),
                "values": values,
            }
        )
        cursor += timedelta(seconds=READINGS_PER_POST // len(stations) + 1)
        answer = await gateway.post(
            "/v1/readings", content=orjson.dumps({"readings": readings}), headers=headers
        )
        if answer.status_code == 202:
            report.posted += READINGS_PER_POST
        else:
            report.refused += 1
        n += 1
        await asyncio.sleep(max(0.0, started + n * every - time.monotonic()))


async def _watch_live(
    api: httpx.AsyncClient, target: SoakTarget, station: str, deadline: float, report: SoakReport
) -> None:
    """A dashboard's live chart of the live station, reconnecting as a browser does."""
    headers = {"authorization": f"Bearer {target.user_token}"}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            url = f"/v1/stations/{live_station(station)}/live"
            async with api.stream("GET", url, headers=headers) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        report.live_frames += 1
                    if time.monotonic() >= deadline:
                        return
        await asyncio.sleep(2)


async def _chart_jobs(
    api: httpx.AsyncClient, target: SoakTarget, station: str, deadline: float, report: SoakReport
) -> None:
    """A day's chart of a soak station every 20 s, followed to its end."""
    headers = {"authorization": f"Bearer {target.user_token}"}
    while time.monotonic() < deadline:
        now = datetime.now(UTC)
        job = {
            "stations": [f"{station}-1"],
            "sensors": list(SENSORS[:4]),
            "start": (now - timedelta(days=31)).isoformat(),
            "end": now.isoformat(),
            "resolution": "auto",
        }
        with contextlib.suppress(httpx.HTTPError):
            posted = await api.post("/v1/historical-jobs", json=job, headers=headers)
            if posted.status_code == 202:
                status_url = f"/v1/historical-jobs/{posted.json()['job_id']}"
                for _ in range(120):
                    view = (await api.get(status_url, headers=headers)).json()
                    if view["status"] == "completed":
                        report.jobs_completed += 1
                        break
                    if view["status"] in ("failed", "cancelled"):
                        report.jobs_failed += 1
                        break
                    await asyncio.sleep(0.5)
        await asyncio.sleep(20)
