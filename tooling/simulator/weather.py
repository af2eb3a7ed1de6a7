"""A small, deterministic weather model per station (pure functions of station and time).

Daily cycles for temperature, humidity and solar radiation (tropical
station, UTC+7), gusty wind with a wandering direction, showers in the
afternoon, slow pressure tides, a battery that charges by day.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

LOCAL = timezone(timedelta(hours=7))
SENSORS = (
    "temperature",
    "humidity",
    "wind_speed",
    "wind_direction",
    "rain",
    "pressure",
    "solar_radiation",
    "battery",
)
"""The eight sensors of an automatic weather station, as :func:`reading` names them."""


def station_ids(count: int, prefix: str = "AWS") -> list[str]:
    return [f"{prefix}-{n:04d}" for n in range(1, count + 1)]


def reading(station_id: str, ts: datetime) -> dict[str, float]:
    """The eight sensors of an automatic weather station at ``ts``."""
    seed = sum(ord(c) * 31**i for i, c in enumerate(station_id)) % 10_000
    rng = random.Random(seed * 1_000_003 + int(ts.timestamp()))
    local = ts.astimezone(LOCAL)
    hour = local.hour + local.minute / 60 + local.second / 3600
    day = local.timetuple().tm_yday
    offset = (seed % 50) / 10  # each station a little different
    daylight = max(0.0, math.sin(math.pi * (hour - 6) / 12))
    temperature = 26 + offset / 2 + 5 * math.sin(math.pi * (hour - 9) / 12) + rng.gauss(0, 0.3)
    humidity = min(100.0, max(20.0, 85 - 2.5 * (temperature - 26) + rng.gauss(0, 2)))
    shower = 14 <= hour <= 18 and math.sin(day * 1.7 + seed) > 0.4
    rain = round(max(0.0, rng.gauss(1.2, 0.8)), 1) if shower and rng.random() < 0.6 else 0.0
    wind = max(0.0, 2.5 + 2 * daylight + rng.gammavariate(2, 0.6) - 1)
    direction = (seed * 7 + 20 * math.sin(hour / 3) + rng.gauss(0, 15)) % 360
    pressure = 1010 + 1.5 * math.sin(math.pi * hour / 6) - 0.2 * offset + rng.gauss(0, 0.1)
    solar = (
        max(0.0, 950 * daylight * (0.4 if shower else 1.0) + rng.gauss(0, 15)) if daylight else 0.0
    )
    battery = 12.4 + 1.2 * daylight + rng.gauss(0, 0.02)
    return {
        "temperature": round(temperature, 2),
        "humidity": round(humidity, 1),
        "wind_speed": round(wind, 2),
        "wind_direction": round(direction, 0),
        "rain": rain,
        "pressure": round(pressure, 1),
        "solar_radiation": round(solar, 0),
        "battery": round(battery, 2),
    }


def readings_between(
    stations: list[str], start: datetime, end: datetime, interval: timedelta
) -> list[dict[str, object]]:
    """Every station's readings in ``[start, end)``, ``interval`` apart, in time order."""
    out: list[dict[str, object]] = []
    ts = start
    while ts < end:
        stamp = ts.astimezone(LOCAL).isoformat()
        for station in stations:
            out.append({"station_id": station, "ts": stamp, "values": reading(station, ts)})
        ts += interval
    return out
