"""nbgrader exchange plugins for learners' servers: every transfer goes through the exam desk.

Configured in the users' nbgrader_config.py (kynangso/hub/userconfig), so JupyterLab's
Assignment List works unchanged: it lists the exams open to the learner, fetches, submits and
fetches feedback, while the learner's account never sees the exchange folder. The desk's
answer (a Vietnamese message) is what an ExchangeError carries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from nbgrader.exchange.abc import ExchangeError
from nbgrader.exchange.default import (
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeSubmit,
)
from traitlets import default
from traitlets.config import LoggingConfigurable

from kynangso.i18n import t

INFO_FILE = "exam-info.json"


def learner() -> str:
    return os.environ.get("JUPYTERHUB_USER") or os.environ.get("USER", "")


def desk(method: str, path: str, body: dict | None = None, timeout: float = 60) -> dict:
    """Call the exam desk with this server's hub token; ExchangeError with its message."""
    base = os.environ.get("KNS_EXAMS_URL")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not base or not token:
        raise ExchangeError(t("exams.client.no_desk"))
    request = urllib.request.Request(
        base.rstrip("/") + "/" + path.lstrip("/"), method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error")
        except (ValueError, AttributeError):
            message = None
        raise ExchangeError(message or t("exams.client.desk_error", code=exc.code)) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ExchangeError(t("exams.client.desk_unreachable", detail=str(exc))) from None


def _write_files(folder: Path, files: list[dict]) -> None:
    for item in files:
        rel = Path(item["path"])
        if rel.is_absolute() or ".." in rel.parts:
            raise ExchangeError(t("exams.bad_path", path=item["path"][:80]))
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(item["data"]))


def _set_aside(dest: Path) -> Path:
    """A folder already under the exam's name may hold files the account wrote (a learner who
    runs code: kynangso.hub.landing), such as a notebook under the exam's name, which Voilà
    would run as the exam, or a module that the exam's kernel would import from its folder.
    It is kept beside, renamed; the exam gets a fresh folder with the release and, read as
    data, the answers the old one held (a fetch again after a restart keeps them)."""
    stem = f"{dest.name}.truoc-thi-{time.strftime('%Y%m%d-%H%M%S')}"
    aside, n = dest.with_name(stem), 1
    while os.path.lexists(aside):  # set aside twice within a second
        n += 1
        aside = dest.with_name(f"{stem}-{n}")
    os.rename(dest, aside)
    return aside


class NoExchangeFolder(LoggingConfigurable):
    """The learner's account has no exchange folder to check: the desk holds it."""

    def ensure_root(self):
        pass

    @default("cache")
    def _home_cache(self):
        # The record of the learner's own submissions, in the home as nbgrader keeps it, also
        # on a learner-app server, whose Jupyter data folder is a fresh one (kynangso.learner).
        return os.path.join(os.path.expanduser("~"), ".local", "share", "jupyter", "nbgrader_cache")


class DeskFetchAssignment(NoExchangeFolder, ExchangeFetchAssignment):
    def init_src(self):
        pass  # the desk decides what may be fetched

    def init_dest(self):
        # nbgrader refuses a folder already there; copy_files sets it aside once the desk has
        # handed the exam out (a refused fetch leaves everything as it was).
        self.dest_path = os.path.abspath(os.path.join(self.assignment_dir, self.coursedir.assignment_id))

    def copy_files(self):
        exam = self.coursedir.assignment_id
        answer = desk("GET", f"api/exams/{exam}")
        dest = Path(self.dest_path)
        staging = Path(tempfile.mkdtemp(prefix=f".{exam}.", dir=dest.parent))
        try:
            _write_files(staging, answer["files"])
            (staging / INFO_FILE).write_text(json.dumps(answer["info"], ensure_ascii=False, indent=1),
                                             encoding="utf-8")
            if os.path.lexists(dest):
                aside = _set_aside(dest)
                answers = aside / f"{exam}.answers.json"
                if answers.is_file() and not answers.is_symlink():
                    shutil.copyfile(answers, staging / answers.name)
                self.log.info("Kept the previous folder as %s", aside.name)
            os.rename(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.log.info("Fetched as: %s %s", self.coursedir.course_id, exam)


class DeskSubmit(NoExchangeFolder, ExchangeSubmit):
    def init_dest(self):
        self.cache_path = os.path.join(self.cache, self.coursedir.course_id)

    def copy_files(self):
        exam = self.coursedir.assignment_id
        with tempfile.TemporaryDirectory(prefix="kns-submit-") as tmp:
            staging = os.path.join(tmp, exam)
            # nbgrader's own copy, so ignore/include/size rules are exactly nbgrader's.
            self.do_copy(self.src_path, staging)
            files = []
            for path in sorted(Path(staging).rglob("*")):
                if path.is_file() and not path.is_symlink():
                    files.append({"path": path.relative_to(staging).as_posix(),
                                  "data": base64.b64encode(path.read_bytes()).decode("ascii")})
            answer = desk("POST", f"api/exams/{exam}/submissions", {"files": files}, timeout=300)
            stamp = answer["timestamp"]
            cache = os.path.join(self.cache_path, f"{learner()}+{exam}+{stamp}")
            os.makedirs(self.cache_path, exist_ok=True)
            shutil.copytree(staging, cache, dirs_exist_ok=True)
            with open(os.path.join(cache, "timestamp.txt"), "w") as fh:
                fh.write(stamp)
        self.timestamp = stamp
        self.log.info(answer["message"])


def _checksum(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - change detection only


class DeskList(NoExchangeFolder, ExchangeList):
    def init_dest(self):
        if self.inbound:
            self.fail(t("exams.client.no_inbound"))
        if self.cached:
            super().init_dest()  # the local cache of this learner's own submissions
            return
        self.assignments = []
        self._open = desk("GET", "api/exams")

    def parse_assignments(self):
        if self.cached:
            return self._with_feedback(super().parse_assignments())
        out = []
        for exam in self._open["exams"]:
            local = os.path.join(self.assignment_dir, exam["assignment_id"])
            fetched = os.path.isdir(local)
            if not fetched and not exam.get("open", True):
                continue  # closed: nothing left to fetch
            folder = os.path.abspath(local) if fetched else ""
            out.append({
                "course_id": exam["course_id"], "assignment_id": exam["assignment_id"],
                "status": "fetched" if fetched else "released",
                "path": folder or exam["assignment_id"],
                "notebooks": [{"notebook_id": nb,
                               "path": os.path.join(folder, f"{nb}.ipynb") if fetched else nb}
                              for nb in exam["notebooks"]],
                "closes_at": exam["closes_at"], "policy_text": exam["policy_text"],
            })
        return out

    def _with_feedback(self, assignments):
        for assignment in assignments:
            available = {}
            if assignment["submissions"]:
                for item in desk("GET", f"api/exams/{assignment['assignment_id']}/feedback")["feedback"]:
                    available[(item["timestamp"], item["notebook_id"])] = _checksum(item["html"])
            for sub in assignment["submissions"]:
                for nb in sub["notebooks"]:
                    remote = available.get((sub["timestamp"], nb["notebook_id"]))
                    nb["has_exchange_feedback"] = remote is not None
                    if nb["has_local_feedback"] and remote is not None:
                        local = Path(nb["local_feedback_path"]).read_text(encoding="utf-8")
                        nb["feedback_updated"] = _checksum(local) != remote
                notebooks = sub["notebooks"]
                sub["has_exchange_feedback"] = bool(notebooks) and all(
                    nb["has_exchange_feedback"] for nb in notebooks)
                sub["feedback_updated"] = any(nb["feedback_updated"] for nb in notebooks)
        return assignments


class DeskFetchFeedback(NoExchangeFolder, ExchangeFetchFeedback):
    def init_src(self):
        pass

    def init_dest(self):
        self.dest_path = os.path.abspath(os.path.join(self.assignment_dir, self.coursedir.assignment_id))

    def copy_files(self):
        exam = self.coursedir.assignment_id
        found = desk("GET", f"api/exams/{exam}/feedback")["feedback"]
        if not found:
            self.fail(t("exams.client.no_feedback", exam=exam))
        for item in found:
            folder = Path(self.dest_path) / "feedback" / item["timestamp"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{item['notebook_id']}.html").write_text(item["html"], encoding="utf-8")
        self.log.info("Fetched feedback: %s %s", self.coursedir.course_id, exam)
