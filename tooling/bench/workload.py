"""Request bodies for the benchmarks: 8-sensor weather readings on BENCH stations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from tooling.simulator.weather import SENSORS


class Bodies:
    """Distinct 7,500-reading bodies (3 stations), each on fresh timestamps, so nothing dedupes."""

    def __init__(self, run: str, *, per_request: int = 7500, stations: int = 3) -> None:
        self.stations = [f"BENCH-{run}-{i}" for i in range(stations)]
        self.per_request = per_request
        self.cursor = datetime(2020, 1, 1, tzinfo=UTC)

    def next(self, count: int | None = None, stations: list[str] | None = None) -> bytes:
        count = count or self.per_request
        stations = stations or self.stations
        readings = []
        for i in range(count):
            ts = self.cursor + timedelta(seconds=10 * (i // len(stations)))
            values = {s: round(20 + (i % 89) * 0.1 + n, 2) for n, s in enumerate(SENSORS)}
            readings.append(
                {"station_id": stations[i % len(stations)], "ts": ts.isoformat(), "values": values}
            )
        self.cursor += timedelta(seconds=10 * (count // len(stations) + 1))
        return orjson.dumps({"readings": readings})
