"""Every action of the desk tried from every state reached through the desk itself."""

from datetime import date, datetime

import pytest

from sandbox.filing.desk import FilingDesk
from sandbox.filing.workflow import IllegalTransition, rules

APPLICANT = {"name": "Đỗ Văn Sơn", "id_number": "001080001111"}
DOCS = {"giay_de_nghi": 1, "hop_dong_thue": 1}
T0 = datetime(2026, 3, 2, 8, 0)
LATER = datetime(2026, 3, 3, 9, 0)

# How to bring a fresh dossier to each state, as a list of desk calls.
PATHS = {
    "da_nop": [],
    "yeu_cau_bo_sung": [lambda d, i: d.request_supplement(i, [], "Thiếu", T0, "cb")],
    "tu_choi": [lambda d, i: d.refuse(i, "Sai thẩm quyền", T0, "cb")],
    "da_tiep_nhan": [lambda d, i: d.receive(i, T0, "cb")],
    "dang_xu_ly": [lambda d, i: d.receive(i, T0, "cb"),
                   lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv")],
    "cho_bo_sung": [lambda d, i: d.receive(i, T0, "cb"),
                    lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv"),
                    lambda d, i: d.request_supplement_processing(i, ["x"], "Thiếu", T0, "cv")],
    "cho_phe_duyet": [lambda d, i: d.receive(i, T0, "cb"),
                      lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv"),
                      lambda d, i: d.submit_for_approval(i, T0, "cv")],
    "co_ket_qua": [lambda d, i: d.receive(i, T0, "cb"),
                   lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv"),
                   lambda d, i: d.result_ready(i, T0, "cv"),
                   lambda d, i: d.pay_at_desk(i, T0, "cb")],
    "da_tra": [lambda d, i: d.receive(i, T0, "cb"),
               lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv"),
               lambda d, i: d.result_ready(i, T0, "cv"),
               lambda d, i: d.pay_at_desk(i, T0, "cb"),
               lambda d, i: d.return_result(i, "truc_tiep", T0, "cb")],
    "dung_xu_ly": [lambda d, i: d.receive(i, T0, "cb"),
                   lambda d, i: d.hand_over(i, "Phòng Kinh tế", T0, "cb", "cv"),
                   lambda d, i: d.stop(i, "Không bổ sung", T0, "cv")],
    "da_rut": [lambda d, i: d.withdraw(i, T0)],
}

# Each action as a desk call (valid arguments, so only the state can make it fail).
ACTIONS = {
    "submit": lambda d, i: d.resubmit(i, {"hop_dong_thue": 1}, LATER),
    "request_supplement": lambda d, i: d.request_supplement(i, ["x"], "Thiếu", LATER, "cb"),
    "refuse": lambda d, i: d.refuse(i, "Sai thẩm quyền", LATER, "cb"),
    "receive": lambda d, i: d.receive(i, LATER, "cb"),
    "hand_over": lambda d, i: d.hand_over(i, "Lãnh đạo", LATER, "cv", "ld"),
    "request_supplement_processing":
        lambda d, i: d.request_supplement_processing(i, ["x"], "Thiếu", LATER, "cv"),
    "supplement_received": lambda d, i: d.supplement_received(i, LATER, "cv"),
    "apologise": lambda d, i: d.apologise(i, date(2026, 3, 10), "Chậm", LATER, "ld"),
    "submit_for_approval": lambda d, i: d.submit_for_approval(i, LATER, "cv"),
    "result_ready": lambda d, i: d.result_ready(i, LATER, "cv"),
    "return_result": lambda d, i: d.return_result(i, "truc_tiep", LATER, "cb"),
    "withdraw": lambda d, i: d.withdraw(i, LATER),
    "stop": lambda d, i: d.stop(i, "Dừng", LATER, "cv"),
}

R = rules()
CASES = [(state, action) for state in PATHS for action in ACTIONS]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return FilingDesk(tmp_path_factory.mktemp("transitions") / "t.sqlite")


def _dossier_in(desk: FilingDesk, state: str) -> int:
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tiep", documents=DOCS, at=T0)
    for step in PATHS[state]:
        step(desk, i)
    assert desk.get(i).state == state
    return i


def test_every_state_is_reached():
    """Does the table above reach every non-draft state of the state machine?"""
    assert set(PATHS) == set(R.states) - {"nhap"}
    assert set(ACTIONS) == set(R.actions)


@pytest.mark.parametrize(("state", "action"), CASES)
def test_desk_action_from_state(shared, state, action):
    """Is each action accepted exactly when the table allows it, and refused without a trace?"""
    i = _dossier_in(shared, state)
    before = shared.get(i)
    if state in R.actions[action].sources:
        ACTIONS[action](shared, i)
        after = shared.get(i)
        assert after.state == (R.actions[action].target or state)
        assert after.events[-1].action == action
    else:
        with pytest.raises(IllegalTransition):
            ACTIONS[action](shared, i)
        after = shared.get(i)
        assert after.state == before.state and len(after.events) == len(before.events)
