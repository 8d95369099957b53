"""State machines of incoming and outgoing documents, with the role allowed for each step.

Pure data and logic; storage.py applies a transition and writes the audit event.

Incoming (NĐ 30/2020 Điều 20–24): an electronic document from another organisation waits
in `pending` until Văn thư receives it (Điều 21.2: check, then receive or return through
the system); a paper one is registered directly. Registered -> submitted to the leader
(Điều 23.1) -> assigned a lead unit, co-ordinating units and a deadline (Điều 23.2) ->
in progress -> completed (Điều 24). When the handling unit is already clear Văn thư may
forward it directly (Điều 23.1, "forward").

Outgoing (Điều 10–19): draft -> approved by the signer (Điều 11) -> signed (Điều 13) ->
numbered after signing (Điều 15.2) -> registered (Điều 16) -> issued (Điều 18) ->
archived (Điều 19). An approved draft can be sent back for revision (Điều 11).
"""

from __future__ import annotations

from kynangso.errors import KnsError
from kynangso.i18n import t

VAN_THU = "van_thu"          # records clerk
LANH_DAO = "lanh_dao"        # leader who directs handling and signs
CHUYEN_VIEN = "chuyen_vien"  # specialist who drafts or handles
ROLES = (VAN_THU, LANH_DAO, CHUYEN_VIEN)

# (state, action) -> (new state, roles allowed, legal source)
INCOMING: dict[tuple[str, str], tuple[str, tuple[str, ...], str]] = {
    ("pending", "receive"): ("registered", (VAN_THU,), "Điều 21.2, 22"),
    ("pending", "return"): ("returned", (VAN_THU,), "Điều 21.2"),
    ("registered", "submit"): ("submitted", (VAN_THU,), "Điều 23.1"),
    ("registered", "forward"): ("assigned", (VAN_THU,), "Điều 23.1"),
    ("submitted", "assign"): ("assigned", (LANH_DAO,), "Điều 23.2"),
    ("assigned", "start"): ("in_progress", (CHUYEN_VIEN,), "Điều 24"),
    ("in_progress", "complete"): ("completed", (CHUYEN_VIEN,), "Điều 24"),
}

OUTGOING: dict[tuple[str, str], tuple[str, tuple[str, ...], str]] = {
    ("draft", "approve"): ("approved", (LANH_DAO,), "Điều 11"),
    ("approved", "revise"): ("draft", (LANH_DAO,), "Điều 11"),
    ("approved", "sign"): ("signed", (LANH_DAO,), "Điều 13"),
    ("signed", "number"): ("numbered", (VAN_THU,), "Điều 15"),
    ("numbered", "register"): ("registered", (VAN_THU,), "Điều 16"),
    ("registered", "issue"): ("issued", (VAN_THU,), "Điều 18"),
    ("issued", "archive"): ("archived", (VAN_THU,), "Điều 19"),
}

MACHINES = {"incoming": INCOMING, "outgoing": OUTGOING}


class WorkflowError(KnsError):
    """A step that is not allowed now, or not by this person; nothing was changed."""


def state_label(state: str) -> str:
    return t(f"documents.state.{state}")


def action_label(action: str) -> str:
    return t(f"documents.action.{action}")


def allowed_actions(kind: str, state: str, role: str | None = None) -> list[str]:
    """Actions possible from `state` (for `role`, if given)."""
    return [
        action
        for (src, action), (_, roles, _) in MACHINES[kind].items()
        if src == state and (role is None or role in roles)
    ]


def next_state(kind: str, state: str, action: str, role: str) -> str:
    """The state after `action`, or WorkflowError saying why it is refused."""
    machine = MACHINES[kind]
    step = machine.get((state, action))
    if step is None:
        possible = allowed_actions(kind, state)
        raise WorkflowError(
            "documents.workflow.illegal",
            log_detail=f"{kind}: {action} refused in state {state}",
            action=action_label(action),
            state=state_label(state),
            allowed=", ".join(action_label(a) for a in possible) or t("documents.workflow.none"),
        )
    new_state, roles, source = step
    if role not in roles:
        raise WorkflowError(
            "documents.workflow.role",
            log_detail=f"{kind}: {action} refused for role {role}",
            action=action_label(action),
            role=t(f"documents.role.{role}") if role in ROLES else role,
            roles=", ".join(t(f"documents.role.{r}") for r in roles),
            source=source,
        )
    return new_state
