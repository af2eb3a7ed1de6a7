"""``scada alarms list`` and ``scada alarms rules list | set | remove``."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import asyncpg
import typer
from pydantic import ValidationError

from base.alarm_rules import RuleNotPublished, remove_rule, save_rule
from base.kafka_clients import durable_producer
from base.kafka_topics import ensure_topics
from base.settings import PlatformSettings
from base.storage.alarms import alarm_view, alarms_of, rules_of
from base.storage.database import prepare_database
from schemas.alarms import SEVERITIES, AlarmRule, AlarmRuleSpec
from schemas.readings import IDENTIFIER_PATTERN
from tooling.cli.output import AsJson, print_json, table

app = typer.Typer(help="Alarms and the rules that raise them.", no_args_is_help=True)
rules_app = typer.Typer(help="An organisation's alarm rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

Org = Annotated[str, typer.Option(help="The organisation.")]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _refused(message: str) -> typer.Exit:
    typer.echo(f"refused: {message}", err=True)
    return typer.Exit(1)


@app.command("list")
def list_alarms(
    org: Org,
    everything: Annotated[
        bool, typer.Option("--all", help="Also the alarms in the normal state.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """The organisation's alarms not in the normal state, worst first."""

    async def run() -> list[dict[str, Any]]:
        pool = await asyncpg.create_pool(
            PlatformSettings().effective_database_url, min_size=1, max_size=1
        )
        try:
            station_rows = await pool.fetch(
                "SELECT station_id FROM ingest.stations WHERE org_id = $1", org
            )
            rows = await alarms_of(
                pool, org, [r["station_id"] for r in station_rows], everything=everything
            )
            return [alarm_view(r) for r in rows]
        finally:
            await pool.close()

    found = asyncio.run(run())
    if as_json:
        print_json(found)
        return
    rows = [
        (
            a["severity"],
            a["state"] + (" (shelved)" if a["shelved"] else ""),
            a["station_id"],
            a["sensor"] or "*",
            a["condition"],
            _number(a["value"]),
            a["raised_at"].isoformat(timespec="seconds") if a["raised_at"] else "",
            a["acknowledged_by"] or "",
            a["key"],
        )
        for a in found
    ]
    headers = ("severity", "state", "station", "sensor", "cond", "value", "raised", "ack by", "key")
    typer.echo(table(headers, rows) if rows else "no alarms")


@rules_app.command("list")
def list_rules(org: Org, as_json: AsJson = False) -> None:
    """The organisation's rules."""

    async def run() -> list[AlarmRule]:
        pool = await asyncpg.create_pool(
            PlatformSettings().effective_database_url, min_size=1, max_size=1
        )
        try:
            return await rules_of(pool, org)
        finally:
            await pool.close()

    found = asyncio.run(run())
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    rows = [
        (r.rule_id, r.kind, r.station, r.sensor or "*", r.severity, _what(r), r.description)
        for r in found
    ]
    headers = ("rule", "kind", "station", "sensor", "severity", "condition", "description")
    typer.echo(table(headers, rows) if rows else f"organisation {org} has no alarm rules")


def _what(rule: AlarmRule) -> str:
    if rule.kind == "limit":
        limits = ", ".join(f"{c}={_number(v)}" for c, v in rule.conditions())
        extra = f" deadband {_number(rule.deadband)}" if rule.deadband else ""
        delay = f" for {rule.on_delay_s} s" if rule.on_delay_s else ""
        text = limits + extra + delay
    elif rule.kind == "rate":
        text = f"|change| ≥ {_number(rule.rate_per_minute)}/min over {rule.window_s} s"
    else:
        text = f"silent for {rule.silent_for_s} s"
    return text + (" (out of service)" if rule.out_of_service else "")


@rules_app.command("set")
def set_rule(
    rule_id: Annotated[str, typer.Argument(metavar="RULE", help="The rule's id.")],
    org: Org,
    kind: Annotated[str, typer.Option(help="limit, rate or no_data.")],
    station: Annotated[str, typer.Option(help="A station of the organisation, or '*'.")] = "*",
    sensor: Annotated[
        str | None, typer.Option(help="The sensor (none: a station's silence).")
    ] = None,
    severity: Annotated[str, typer.Option(help=f"One of {', '.join(SEVERITIES)}.")] = "medium",
    hh: Annotated[float | None, typer.Option("--hh", help="High-high limit.")] = None,
    h: Annotated[float | None, typer.Option("--h", help="High limit.")] = None,
    low: Annotated[float | None, typer.Option("--l", help="Low limit.")] = None,
    ll: Annotated[float | None, typer.Option("--ll", help="Low-low limit.")] = None,
    deadband: Annotated[float, typer.Option(help="Back inside by this much to clear.")] = 0.0,
    on_delay: Annotated[int, typer.Option(help="Seconds a limit must hold to raise.")] = 0,
    rate_per_minute: Annotated[float | None, typer.Option(help="Rate of change limit.")] = None,
    window: Annotated[int, typer.Option(help="Seconds the rate is measured over.")] = 300,
    silent_for: Annotated[int | None, typer.Option(help="Seconds of silence (no_data).")] = None,
    notify_url: Annotated[str | None, typer.Option(help="A webhook for this rule.")] = None,
    out_of_service: Annotated[bool, typer.Option(help="Evaluated, never raised.")] = False,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    as_json: AsJson = False,
) -> None:
    """Create or replace RULE, saved and published to the evaluators together."""
    if not re.fullmatch(IDENTIFIER_PATTERN, rule_id):
        raise _refused("a rule id is 1-64 letters, digits, '_', '.' or '-'")
    fields = {
        "kind": kind,
        "station": station,
        "sensor": sensor,
        "severity": severity,
        "hh": hh,
        "h": h,
        "l": low,
        "ll": ll,
        "deadband": deadband,
        "on_delay_s": on_delay,
        "rate_per_minute": rate_per_minute,
        "window_s": window,
        "silent_for_s": silent_for,
        "notify_url": notify_url,
        "out_of_service": out_of_service,
        "description": description,
    }
    try:
        spec = AlarmRuleSpec.model_validate(fields)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors()
        )
        raise _refused(reasons) from None
    settings = PlatformSettings()

    async def run() -> AlarmRule:
        await prepare_database(settings.effective_database_url)
        pool = await asyncpg.create_pool(settings.effective_database_url, min_size=1, max_size=1)
        producer = durable_producer(settings.effective_kafka_bootstrap, client_id="scada-cli")
        try:
            if spec.station != "*":
                owner = await pool.fetchval(
                    "SELECT org_id FROM ingest.stations WHERE station_id = $1", spec.station
                )
                if owner != org:
                    raise ValueError(f"station {spec.station} is not one of organisation {org}'s")
            await ensure_topics(
                settings.effective_kafka_bootstrap,
                (settings.topics.alarm_rules,),
                replication_override=settings.topic_replication_factor,
            )
            await producer.start()
            return await save_rule(pool, producer, settings.topics.alarm_rules, org, rule_id, spec)
        finally:
            await producer.stop()
            await pool.close()

    try:
        rule = asyncio.run(run())
    except (ValueError, RuleNotPublished) as exc:
        raise _refused(str(exc)) from None
    if as_json:
        print_json(rule.model_dump(mode="json"))
    else:
        typer.echo(f"{org}: rule {rule.rule_id} ({rule.kind}, {_what(rule)}) saved")


@rules_app.command("remove")
def remove(
    rule_id: Annotated[str, typer.Argument(metavar="RULE")], org: Org, as_json: AsJson = False
) -> None:
    """Remove RULE; its active alarms are cleared by the evaluator."""
    settings = PlatformSettings()

    async def run() -> bool:
        pool = await asyncpg.create_pool(settings.effective_database_url, min_size=1, max_size=1)
        producer = durable_producer(settings.effective_kafka_bootstrap, client_id="scada-cli")
        try:
            await ensure_topics(
                settings.effective_kafka_bootstrap,
                (settings.topics.alarm_rules,),
                replication_override=settings.topic_replication_factor,
            )
            await producer.start()
            return await remove_rule(pool, producer, settings.topics.alarm_rules, org, rule_id)
        finally:
            await producer.stop()
            await pool.close()

    try:
        removed = asyncio.run(run())
    except RuleNotPublished as exc:
        raise _refused(str(exc)) from None
    if not removed:
        typer.echo(f"organisation {org} has no alarm rule {rule_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json({"org": org, "rule_id": rule_id, "removed": True})
    else:
        typer.echo(f"{org}: rule {rule_id} removed")
