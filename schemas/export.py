"""Write every topic's value schema as JSON Schema, for analytics consumers."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.topics import ALL_TOPICS


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<topic>.schema.json`` for each topic into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in ALL_TOPICS:
        path = directory / f"{topic.name}.schema.json"
        path.write_text(json.dumps(topic.json_schema(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
