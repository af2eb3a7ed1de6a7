"""Settings of the alarm evaluator (``SCADA_`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from alarm_evaluator.evaluation import LIVE_WINDOW_S
from base.settings import PlatformSettings
from schemas.groups import ALARM_EVALUATOR_GROUP


class EvaluatorSettings(PlatformSettings):
    evaluator_group: str = Field(
        default=ALARM_EVALUATOR_GROUP,
        description="The faust app id: its consumer group, and its changelog topics' prefix.",
    )
    live_window_seconds: float = Field(
        default=LIVE_WINDOW_S,
        gt=0,
        description="Readings older than this are history: they raise and clear nothing.",
    )
    silence_check_seconds: float = Field(
        default=10.0, gt=0, description="How often stations are checked for no-data rules."
    )
    metrics_host: str = Field(default="127.0.0.1")
    metrics_port: int = Field(default=9103, description="Prometheus /metrics; 0 turns it off.")

    @property
    def app_id(self) -> str:
        """The evaluator's group, in the deployment's topic namespace."""
        namespace = self.topic_namespace
        return f"{namespace}.{self.evaluator_group}" if namespace else self.evaluator_group
