"""The dossier state machine as a table: every legal and every illegal transition."""

from datetime import datetime

import pytest

from kynangso.errors import KnsError
from sandbox.filing import workflow
from sandbox.filing.workflow import IllegalTransition, OnceOnly, next_state, rules

R = rules()
LEGAL = [(a.name, s) for a in R.actions.values() for s in sorted(a.sources)]
ILLEGAL = [(a.name, s) for a in R.actions.values() for s in sorted(R.states) if s not in a.sources]


@pytest.mark.parametrize(("action", "state"), LEGAL)
def test_legal_transition(action, state):
    """Is every transition of the table accepted, leading to the state the table names?"""
    target = R.actions[action].target or state
    assert next_state(state, action) == target


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_illegal_transition_names_rule(action, state):
    """Is every other transition refused with the forbidding rule in the Vietnamese message?"""
    with pytest.raises(IllegalTransition) as info:
        next_state(state, action)
    msg = info.value.user_message
    assert R.actions[action].source in msg
    assert "Không thể" in msg


@pytest.mark.parametrize("state", [s for s, terminal in R.states.items() if terminal])
def test_terminal_states_allow_nothing(state):
    """Do the terminal states (refused, returned, stopped, withdrawn) allow no action at all?"""
    assert workflow.allowed_actions(state) == []


@pytest.mark.parametrize(("action", "state"), [
    ("request_supplement", "da_nop"),
    ("request_supplement_processing", "dang_xu_ly"),
    ("apologise", "dang_xu_ly"),
])
def test_once_only(action, state):
    """Is a once-only action refused the second time, quoting its rule?"""
    with pytest.raises(OnceOnly) as info:
        next_state(state, action, done=[action])
    assert "một lần" in info.value.user_message
    assert action not in workflow.allowed_actions(state, done=[action])


def test_unknown_action():
    """Is an action that is not in the procedure refused with a Vietnamese message?"""
    with pytest.raises(KnsError, match="không có trong quy trình"):
        next_state("da_nop", "approve_everything")


def test_rating():
    """Are steps rated trước hạn / đúng hạn / quá hạn against the due time?"""
    due = datetime(2026, 3, 5, 17, 0)
    assert workflow.rate(datetime(2026, 3, 4, 16, 0), due) == "truoc_han"
    assert workflow.rate(datetime(2026, 3, 5, 16, 59), due) == "dung_han"
    assert workflow.rate(datetime(2026, 3, 5, 17, 1), due) == "qua_han"


def test_missing_documents():
    """Are short quantities counted as missing, and extras ignored?"""
    assert workflow.missing_documents({"a": 1, "b": 2}, {"a": 1, "b": 1, "c": 3}) == ["b"]
