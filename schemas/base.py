"""Base class for every message on a topic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A frozen message with no behaviour.

    Unknown fields are ignored so that a consumer keeps working when a
    producer adds an optional field within the same ``schema_version``;
    a breaking change gets a new version and a new topic (``.v2``).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
