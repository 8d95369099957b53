"""What course widgets call to report progress, from inside the learner's kernel.

The kernel inherits its server's hub token ($JUPYTERHUB_API_TOKEN) and the
service's address ($KNS_PROGRESS_URL), so the learner sees no token and writes
no code.

- `submit_answer`: an exercise's answer goes to the service, which rebuilds the
  task, judges the answer and stores its verdict; the verdict comes back. No
  verdict, no time and no lesson completion is ever sent from here: the service
  decides those (a learner can run any code in their kernel).
- `record`: only "lesson_opened" (the service stamps its own time). A report that
  cannot be sent waits in a queue file in the learner's home and goes with the
  next report; each event has an id, so a report sent twice is counted once.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

import requests

# INFO, never WARNING: a kernel has no log handler, and Python would print a
# warning in English under the learner's cell whenever the service is down.
log = logging.getLogger(__name__)


def queue_path() -> Path:
    return Path.home() / ".kynangso" / "progress-queue.jsonl"


def _endpoint() -> tuple[str, str] | None:
    url, token = os.environ.get("KNS_PROGRESS_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    return (url.rstrip("/") + "/api/events", token) if url and token else None


# What the kernel may still report; the rest is the service's own judgement.
REPORTED_KINDS = ("lesson_opened",)
ANSWER_TIMEOUT = 120  # the service may first build the learner's practice files (CA, desks)


def make_event(kind: str, course: str, lesson: str, exercise: str | None = None) -> dict:
    return {"event_id": uuid.uuid4().hex, "kind": kind, "course_id": course, "lesson_id": lesson,
            "exercise_id": exercise}


def _queued() -> list[dict]:
    queue = queue_path()
    if not queue.exists():
        return []
    events = []
    for line in queue.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a half-written line from a crash: drop it, not the whole queue
    return events


def _write_queue(events: list[dict]) -> None:
    queue = queue_path()
    queue.parent.mkdir(parents=True, exist_ok=True)
    tmp = queue.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    os.replace(tmp, queue)


def record(kind: str, course: str, lesson: str, exercise: str | None = None, timeout: float = 5) -> bool:
    """Report one event; True when it (and any queued ones) reached the service.

    Never raises: progress reporting must not break a lesson. Kinds the service
    derives itself (lesson_completed, exercise_*) are not sent.
    """
    if kind not in REPORTED_KINDS:
        log.info("progress: %s is decided by the service, not reported", kind)
        return False
    # queued events of an older kernel (with their own times or verdicts) would be refused
    events = [e for e in _queued() if e.get("kind") in REPORTED_KINDS and "occurred_at" not in e]
    events.append(make_event(kind, course, lesson, exercise))
    endpoint = _endpoint()
    if endpoint is not None:
        url, token = endpoint
        try:
            r = requests.post(url, json={"events": events}, timeout=timeout,
                              headers={"Authorization": f"token {token}"})
            if r.status_code in (200, 201):
                queue_path().unlink(missing_ok=True)
                return True
            log.info("progress service answered %s: %s", r.status_code, r.text[:200])
            if r.status_code == 400:  # refused as such: sending it again changes nothing
                queue_path().unlink(missing_ok=True)
                return False
        except requests.RequestException as exc:
            log.info("progress service unreachable: %s", exc)
    _write_queue(events)
    return False


def submit_answer(course: str, lesson: str, exercise: str, round_: int, answer,
                  timeout: float = ANSWER_TIMEOUT) -> dict | None:
    """Send an exercise's answer to be judged; the service's reply, or None when unreachable.

    The reply is {"passed", "feedback", ...} (the service's verdict, in Vietnamese), or
    {"refused": message} when the service refused to judge (a quota, an unknown exercise).
    Never raises: practice goes on without the service.
    """
    endpoint = _endpoint()
    if endpoint is None:
        return None
    url, token = endpoint
    body = {"course_id": course, "lesson_id": lesson, "exercise_id": exercise, "round": round_,
            "answer": answer}
    try:
        r = requests.post(url.removesuffix("/events") + "/answers", json=body, timeout=timeout,
                          headers={"Authorization": f"token {token}"})
    except (requests.RequestException, TypeError, ValueError) as exc:
        log.info("progress service unreachable: %s", exc)
        return None
    try:
        data = r.json()
    except ValueError:
        data = {}
    if r.status_code == 200 and isinstance(data.get("passed"), bool):
        return data
    log.info("progress service answered %s: %s", r.status_code, r.text[:200])
    if r.status_code in (400, 403, 404, 429) and isinstance(data.get("error"), str):
        return {"refused": data["error"]}
    return None


def my_progress(timeout: float = 5) -> dict | None:
    """The learner's own progress summary, or None when the service is unreachable."""
    endpoint = _endpoint()
    if endpoint is None:
        return None
    url, token = endpoint
    try:
        r = requests.get(url.removesuffix("/events") + "/me", timeout=timeout,
                         headers={"Authorization": f"token {token}"})
        return r.json() if r.status_code == 200 else None
    except requests.RequestException:
        return None
