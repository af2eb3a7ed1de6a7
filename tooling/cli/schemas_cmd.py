"""``scada schemas export DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import export_json_schemas

app = typer.Typer(help="The message contract, for analytics consumers.", no_args_is_help=True)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write the JSON Schemas.")],
) -> None:
    """Write one JSON Schema per topic (<topic>.schema.json)."""
    for path in export_json_schemas(directory):
        typer.echo(str(path))
