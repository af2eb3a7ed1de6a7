"""The ISA-18.2 lifecycle of one alarm, as a fold over its transitions (pure logic).

:func:`apply` says what a transition does to an alarm's state, or that it does
nothing: a second ``raised`` of an alarm already active (a restarted evaluator's
replay, or a rule's condition re-evaluated), a ``cleared`` of one already clear, an
acknowledgement of an acknowledged alarm, a condition older than the alarm's last
one. Such a transition is kept in the audit trail but changes no state, so that
doubles — whatever their event id — are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from schemas.alarms import AlarmTransition


@dataclass(frozen=True)
class AlarmState:
    active: bool = False
    acknowledged: bool = True
    raised_at: datetime | None = None
    cleared_at: datetime | None = None
    value: float | None = None
    limit: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    shelved_until: datetime | None = None
    shelved_by: str | None = None
    shelve_reason: str | None = None

    @property
    def state(self) -> str:
        """``active_unacknowledged``, ``active_acknowledged``, ``returned_unacknowledged``
        or ``normal`` (shelving is told apart by ``shelved_until``)."""
        if self.active:
            return "active_acknowledged" if self.acknowledged else "active_unacknowledged"
        return "normal" if self.acknowledged else "returned_unacknowledged"

    def _last_condition(self) -> datetime | None:
        times = [t for t in (self.raised_at, self.cleared_at) if t is not None]
        return max(times) if times else None


def apply(current: AlarmState | None, event: AlarmTransition) -> AlarmState | None:
    """The alarm's state after ``event``, or None if ``event`` changes nothing."""
    state = current or AlarmState()
    if event.type in ("raised", "cleared"):
        last = state._last_condition()
        if last is not None and event.at < last:
            return None  # older than what the alarm already knows
    if event.type == "raised":
        if state.active:
            return None
        return replace(
            state,
            active=True,
            acknowledged=False,
            raised_at=event.at,
            cleared_at=None,
            value=event.value,
            limit=event.limit,
            acknowledged_by=None,
            acknowledged_at=None,
        )
    if event.type == "cleared":
        if current is None or not state.active:
            return None
        return replace(state, active=False, cleared_at=event.at, value=event.value)
    if current is None:
        return None  # an operator's action on an alarm never raised
    if event.type == "acknowledged":
        if state.acknowledged:
            return None
        return replace(state, acknowledged=True, acknowledged_by=event.by, acknowledged_at=event.at)
    if event.type == "shelved":
        if event.shelved_until is None or event.shelved_until <= event.at:
            return None
        return replace(
            state,
            shelved_until=event.shelved_until,
            shelved_by=event.by,
            shelve_reason=event.reason,
        )
    # unshelved: by hand (no time named), or the expiry of the shelving that ends then
    if state.shelved_until is None:
        return None
    if event.shelved_until is not None and event.shelved_until != state.shelved_until:
        return None  # the end of an earlier shelving: a newer one stands
    return replace(state, shelved_until=None, shelved_by=None, shelve_reason=None)
