"""``scada schemas export DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import export_json_schemas
from tooling.cli.output import AsJson, print_json

app = typer.Typer(help="The message contract, for analytics consumers.", no_args_is_help=True)


@app.command()
def export(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to write the JSON Schemas.")
    ],
    as_json: AsJson = False,
) -> None:
    """Write one JSON Schema per topic (<topic>.schema.json)."""
    written = export_json_schemas(directory)
    if as_json:
        print_json([{"path": path} for path in written])
    else:
        typer.echo("\n".join(str(path) for path in written))
