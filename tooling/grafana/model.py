"""A small model of what our Grafana dashboards use: time-series panels of PromQL queries.

It renders Grafana's dashboard JSON (schemaVersion 39): only the fields a
provisioned, read-only dashboard needs, so the files stay short and reviewable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SCHEMA_VERSION = 39
WIDTH = 24
PANEL_HEIGHT = 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    width: int = 12

    def render(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        return {
            "id": panel_id,
            "type": "timeseries",
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": PANEL_HEIGHT, "w": self.width, "x": x, "y": y},
            "fieldConfig": {"defaults": {"unit": self.unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            "targets": [
                {
                    "refId": chr(ord("A") + i),
                    "datasource": DATASOURCE,
                    "expr": q.expr,
                    "legendFormat": q.legend,
                }
                for i, q in enumerate(self.queries)
            ],
        }


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = field(default=("scada-pipeline",))

    def render(self) -> dict[str, Any]:
        rendered, x, y = [], 0, 0
        for i, panel in enumerate(self.panels, start=1):
            if x + panel.width > WIDTH:
                x, y = 0, y + PANEL_HEIGHT
            rendered.append(panel.render(i, x, y))
            x += panel.width
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "schemaVersion": SCHEMA_VERSION,
            "editable": False,
            "time": {"from": "now-1h", "to": "now"},
            "refresh": "15s",
            "panels": rendered,
        }
