"""Server extension for learners' servers: the Assignment List shows the exam desk's
Vietnamese message instead of a Python traceback when a fetch or a submission is refused.

nbgrader's handler puts `traceback.format_exc()` in the reply; the last line carries our
ExchangeError's message. The traceback still goes to the server log for the operator. Its
fetch action answers with the list of assignments even when the fetch failed (so the page
said nothing); here a failed fetch answers with the failure, as its submit action does, and
the Assignment List shows the message in place of the list.
"""

from __future__ import annotations

import functools
import json

from tornado import web

ACTIONS = ("fetch_assignment", "fetch_feedback", "submit_assignment", "list_released_assignments",
           "list_submitted_assignments")
PREFIX = "nbgrader.exchange.abc.exchange.ExchangeError: "


def _message_only(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        value = result.get("value") if isinstance(result, dict) else None
        if result.get("success") is False and isinstance(value, str) and "Traceback" in value:
            last = value.strip().splitlines()[-1]
            result["value"] = last.split(": ", 1)[1] if last.startswith(PREFIX.split(":")[0]) \
                and ": " in last else last
        return result

    wrapper.kns_wrapped = True
    return wrapper


def _fetch_says_why(post):
    @functools.wraps(post)
    @web.authenticated
    def wrapper(self, action):
        if action != "fetch":
            return post(self, action)
        try:
            course_id, assignment_id = self.get_argument("course_id"), self.get_argument("assignment_id")
        except web.MissingArgumentError:
            body = self.get_json_body() or {}
            course_id, assignment_id = body.get("course_id"), body.get("assignment_id")
        output = self.manager.fetch_assignment(course_id, assignment_id)
        if not output.get("success"):
            self.finish(json.dumps(output))
            return
        self.finish(json.dumps(self.manager.list_assignments(course_id=course_id)))

    wrapper.kns_wrapped = True
    return wrapper


def _load_jupyter_server_extension(serverapp) -> None:
    from nbgrader.server_extensions.assignment_list.handlers import (
        AssignmentActionHandler,
        AssignmentList,
    )

    if not getattr(AssignmentActionHandler.post, "kns_wrapped", False):
        AssignmentActionHandler.post = _fetch_says_why(AssignmentActionHandler.post)

    for name in ACTIONS:
        method = getattr(AssignmentList, name)
        if not getattr(method, "kns_wrapped", False):
            setattr(AssignmentList, name, _message_only(method))
    serverapp.log.info("kynangso.exams.labext: exam desk messages for the Assignment List")


def _jupyter_server_extension_points():
    return [{"module": "kynangso.exams.labext"}]
