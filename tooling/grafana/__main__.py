"""``python -m tooling.grafana``: write deploy/grafana/dashboards/*.json from dashboards.py."""

from __future__ import annotations

import json
from pathlib import Path

from tooling.grafana.dashboards import DASHBOARDS
from tooling.grafana.model import Dashboard

DIRECTORY = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"


def rendered(dashboard: Dashboard) -> str:
    return json.dumps(dashboard.render(), indent=2) + "\n"


def main() -> None:
    for stale in DIRECTORY.glob("*.json"):
        if stale.stem not in {d.uid for d in DASHBOARDS}:
            stale.unlink()
    for dashboard in DASHBOARDS:
        (DIRECTORY / f"{dashboard.uid}.json").write_text(rendered(dashboard))
        print(DIRECTORY / f"{dashboard.uid}.json")


if __name__ == "__main__":
    main()
