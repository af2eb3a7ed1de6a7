"""The project's exception tree.

    ScadaError                      base of everything we raise on purpose
    ├── HttpError                   what an HTTP service answers (tree: base/http/errors.py)
    ├── ServerUnavailable           Kafka or PostgreSQL did not answer (retriable)
    ├── StackError                  the local stack could not be installed or started
    └── MigrationError              the database schema cannot be brought up to date

Behaviour is carried by attributes (``retriable``), so callers test a flag
instead of stacking ``except`` clauses.
"""

from __future__ import annotations


class ScadaError(Exception):
    """Base class of every error scada-pipeline raises on purpose."""

    retriable: bool = False


class ServerUnavailable(ScadaError):
    """Kafka or PostgreSQL did not answer in time; trying again later may succeed."""

    retriable = True


class StackError(ScadaError):
    """The embedded local stack could not be installed, started or stopped."""


class MigrationError(ScadaError):
    """A migration failed, or an applied migration was changed after the fact."""
