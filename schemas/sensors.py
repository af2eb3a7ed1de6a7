"""The sensor catalogue's contract: what a sensor is, how its readings aggregate.

Each organisation has one catalogue; it starts from :data:`DEFAULT_SENSORS` (the
common sensors of an automatic weather station) and may override or add to them.
A sensor nobody catalogued is still accepted and stored, and shown as ``unknown``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.readings import Identifier

Kind = Literal["instantaneous", "accumulation", "angle", "counter", "state"]
"""How a sensor's readings combine over a bucket:

- ``instantaneous`` (temperature): the mean, with the min-max band
- ``accumulation`` (rain since the last reading): the sum
- ``angle`` (wind direction, degrees): the vector mean; no band (it would span north)
- ``counter`` (an energy meter's total): the rate of increase per second
- ``state`` (a door, a pump on/off): the maximum (was it ever on), with min and max
"""
KINDS: tuple[Kind, ...] = ("instantaneous", "accumulation", "angle", "counter", "state")
UNKNOWN = "unknown"
"""The kind shown for a sensor a station sends that no catalogue entry names."""


class SensorSpec(BaseModel):
    """A catalogue entry's body (``PUT /v1/sensors/{name}``, ``scada sensors set``)."""

    model_config = ConfigDict(extra="forbid")
    display_name: Annotated[str, Field(min_length=1, max_length=80)]
    unit: Annotated[str, Field(max_length=16)] = ""
    kind: Kind = "instantaneous"
    valid_min: Annotated[float, Field(ge=-1e300, le=1e300)] | None = None
    valid_max: Annotated[float, Field(ge=-1e300, le=1e300)] | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] = 1

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        lo, hi = self.valid_min, self.valid_max
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError("valid_min must be below valid_max")
        return self


class Sensor(SensorSpec):
    """A catalogue entry as listed: its name, and whether it is the default's or the org's."""

    name: Identifier
    source: Literal["default", "organisation", "unknown"]


def _default(
    name: str, display: str, unit: str, kind: Kind, lo: float, hi: float, dp: int
) -> Sensor:
    return Sensor(
        name=name,
        display_name=display,
        unit=unit,
        kind=kind,
        valid_min=lo,
        valid_max=hi,
        decimals=dp,
        source="default",
    )


DEFAULT_SENSORS: tuple[Sensor, ...] = (
    _default("temperature", "Air temperature", "°C", "instantaneous", -60, 60, 1),
    _default("humidity", "Relative humidity", "%", "instantaneous", 0, 100, 0),
    _default("pressure", "Air pressure", "hPa", "instantaneous", 800, 1100, 1),
    _default("rain", "Rainfall", "mm", "accumulation", 0, 500, 1),
    _default("wind_speed", "Wind speed", "m/s", "instantaneous", 0, 90, 1),
    _default("wind_gust", "Wind gust", "m/s", "instantaneous", 0, 110, 1),
    _default("wind_direction", "Wind direction", "°", "angle", 0, 360, 0),
    _default("solar_radiation", "Solar radiation", "W/m²", "instantaneous", 0, 1600, 0),
    _default("battery", "Battery voltage", "V", "instantaneous", 0, 30, 2),
    _default("dew_point", "Dew point", "°C", "instantaneous", -80, 40, 1),
    _default("water_level", "Water level", "m", "instantaneous", -50, 500, 2),
    _default("soil_moisture", "Soil moisture", "%", "instantaneous", 0, 100, 0),
    _default("evaporation", "Evaporation", "mm", "accumulation", 0, 50, 1),
)
"""What every organisation's catalogue starts from."""
