"""The dossier state machine and the one-stop rules, as pure functions (no storage).

The transitions are data (`data/workflow.yaml`), each with the rule it implements, so a refused
move names that rule. Timing rules (apology at least one working day before the due date, rating
of hand-overs) take the working-day calendar as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.workdays import WorkCalendar, fmt_day, fmt_moment
from kynangso.workdays.loader import read_yaml

RATINGS = ("truoc_han", "dung_han", "qua_han")
RETURN_METHODS = ("truc_tiep", "buu_chinh", "truc_tuyen")
CHANNELS = ("truc_tuyen", "truc_tiep", "buu_chinh")


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    target: str | None
    form: str | None
    once: bool
    source: str


@dataclass(frozen=True)
class Rules:
    states: dict[str, bool]  # state -> terminal
    actions: dict[str, Action]


@cache
def rules() -> Rules:
    path = Path(str(resources.files("sandbox.filing") / "data" / "workflow.yaml"))
    data = read_yaml(path.read_text(encoding="utf-8"))
    states = {name: bool(v.get("terminal")) for name, v in data["states"].items()}
    actions = {}
    for name, row in data["actions"].items():
        actions[name] = Action(name, frozenset(row["from"]), row.get("to"), row.get("form"),
                               bool(row.get("once")), row["source"])
        assert set(row["from"]) <= set(states), name  # a typo in the table is a programming error
    return Rules(states, actions)


class IllegalTransition(KnsError):
    """An action not allowed from the dossier's current state; names the rule."""

    def __init__(self, action: str, state: str, rule: str, key: str = "filing.illegal"):
        self.action, self.state, self.rule = action, state, rule
        super().__init__(key, log_detail=f"illegal {action} from {state}",
                         action=t(f"filing.action.{action}"), state=t(f"filing.state.{state}"),
                         rule=rule)


class OnceOnly(IllegalTransition):
    """A once-only action (supplementation, apology) attempted a second time."""

    def __init__(self, action: str, state: str, rule: str):
        super().__init__(action, state, rule, key="filing.once_only")


def next_state(state: str, action: str, done: Iterable[str] = ()) -> str:
    """The state after `action`, or IllegalTransition / OnceOnly with the forbidding rule.

    `done` lists the actions already taken on the dossier (for the once-only rules).
    """
    r = rules()
    a = r.actions.get(action)
    if a is None:
        raise KnsError("filing.unknown_action", action=action)
    if state not in a.sources:
        raise IllegalTransition(action, state, a.source)
    if a.once and action in set(done):
        raise OnceOnly(action, state, a.source)
    return a.target or state


def allowed_actions(state: str, done: Iterable[str] = ()) -> list[str]:
    """Actions a person may take now (what the officer desk offers as buttons)."""
    done_set = set(done)
    return [a.name for a in rules().actions.values()
            if state in a.sources and not (a.once and a.name in done_set)]


def missing_documents(required: Mapping[str, int], provided: Mapping[str, int]) -> list[str]:
    """Keys of required documents that are absent or short in number."""
    return [key for key, qty in required.items() if provided.get(key, 0) < qty]


def rate(at: datetime, due_at: datetime) -> str:
    """trước hạn / đúng hạn / quá hạn of a step finished at `at` (domain README §3.7 [I])."""
    if at > due_at:
        return "qua_han"
    if at.date() < due_at.date():
        return "truoc_han"
    return "dung_han"


def check_apology(cal: WorkCalendar, at: datetime, due_at: datetime, new_due: date) -> None:
    """The apology must be sent at least one working day before the due date, with a later date.

    Rule: domain README §3.4 ("chậm nhất 01 ngày trước ngày hết hạn").
    """
    latest = cal.add_working_days(due_at.date(), -1)
    if at.date() > latest:
        raise KnsError("filing.apology_too_late", latest=fmt_day(latest),
                       due=fmt_moment(due_at))
    if new_due <= due_at.date():
        raise KnsError("filing.apology_date_not_later", new=new_due.strftime("%d/%m/%Y"),
                       due=fmt_moment(due_at))
    if not cal.is_working_day(new_due):
        raise KnsError("filing.apology_date_not_working", new=fmt_day(new_due))
