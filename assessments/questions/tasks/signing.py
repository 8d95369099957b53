"""Digital-signature tasks (sandbox.signing): find the documents whose signature is not valid,
and sign a document with one's own certificate.

Which CA. A signed artefact is graded on its merits in the grader's kernel, so learner and
grader must share a trust anchor the learner cannot forge: the platform's training CA (the one
the `signing` hub service issues from). In a learner's kernel on the hub the CA's public part
and the learner's own key come from the service (`sandbox.signing.client.local_pki()`, the key
in `~/.kynangso/pki/keys/<user>/`); elsewhere (the grader, the operator, tests) the CA is the
settings' `state_dir/pki` (`TrainingPKI()`). The course's practice CA (courses/c02) is the
learner's own, with its CA key in the learner's home, so a signature under it proves nothing
to a grader; it is not used for the signing task.

The documents to check are made by the sandbox's scenario generator under a throwaway scenario
CA (`handed_files`). Whoever makes them knows which are faulty, so on the platform the exam desk
makes them at fetch, from the variant's seed, and hands over the PDFs and the public part of
that CA (`<item>/ca/`, what the learner's verifier trusts); the seed stays out of what the
learner's kernel holds (HIDDEN). The grader recomputes which are faulty from the seed
(`scenarios.plan_inbox`, in the exam course's answer_keys.py), never from the files. Without a
desk (practice, a course folder outside the hub) the variant's seed is public anyway, and the
kernel makes the same files itself when they are missing, never in nbgrader's folders.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, status_html
from assessments.questions.tasks.common import STYLE, WIDE, in_grader, label, para, share
from kynangso.asyncio_compat import off_loop
from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.signing import client, sample, scenarios, sign
from sandbox.signing.pki import TrainingPKI, utcnow, write_atomic
from sandbox.signing.verify import verify_pdf

log = logging.getLogger(__name__)

for _name in ("pyhanko", "pyhanko_certvalidator"):
    # pyHanko logs every failed validation with an English traceback; the Vietnamese report
    # says why, so keep those out of the learner's cell output (as courses/c02 does).
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

INBOX_COUNT = 4
CA_FILES = ("root.pem", "issuing.pem", "tsa.pem", "crl.der")  # what verify_pdf reads of a CA
ORG = "UBND phường Hòa Bình (mô phỏng)"
SUBJECTS = ("tổ chức tập huấn chữ ký số", "rà soát hồ sơ một cửa quý I",
            "kế hoạch chuyển đổi số năm 2026", "báo cáo cải cách hành chính")


# -- which CA ----------------------------------------------------------------------------------


def signing_pki() -> TrainingPKI:
    """The training CA as the learner's kernel sees it (see the module docstring)."""
    return client.local_pki() if client.enabled() else TrainingPKI()


def grading_pki() -> TrainingPKI:
    """The training CA the grader trusts: the platform's own (settings' state_dir/pki)."""
    return TrainingPKI()


def signing_account(learner: str) -> str:
    return client.account() if client.enabled() else learner


def new_scenario_pki(folder: Path) -> TrainingPKI:
    """A throwaway scenario CA, dated three years back like the course's."""
    start = utcnow() - dt.timedelta(days=3 * 365)
    TrainingPKI.create(folder, clock=lambda: start)
    return TrainingPKI(folder)


# -- find the documents whose signature is not valid -------------------------------------------


class FindInvalidSignature(Question):
    """Several signed documents arrived: which ones do not carry a valid signature?"""

    kind = "task_find_invalid_signature"
    NEEDS_KEY = True
    HIDDEN = ("seed",)  # it makes the documents, hence their answer: the desk makes them

    @classmethod
    def variant(cls, exam_id, item_id, learner, count: int = INBOX_COUNT, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        seed = rng.randrange(10**6)
        plan = scenarios.plan_inbox(learner, seed=seed, count=count)
        files = [f"{item_id}/van-ban-den-{n:02d}.pdf" for n in range(1, count + 1)]
        return {"seed": seed, "count": count, "files": files,
                "numbers": [p.number for p in plan], "learner": learner}

    @staticmethod
    def inbox(task) -> PurePosixPath:
        """The documents' folder in the exam folder; their CA's public part is in `ca/` there."""
        return PurePosixPath(task["files"][0]).parent

    @classmethod
    def handed_files(cls, task, learner) -> dict[str, bytes]:
        """The variant's documents and the public part of their scenario CA, by path relative
        to the exam folder (made by the desk at fetch, kynangso.exams.variants)."""
        inbox = cls.inbox(task)
        with tempfile.TemporaryDirectory(prefix="kns-inbox-") as tmp:
            pki = new_scenario_pki(Path(tmp) / "pki")
            scenarios.generate_inbox(pki, learner, Path(tmp) / "inbox", seed=task["seed"],
                                     count=task["count"])
            files = {f: (Path(tmp) / "inbox" / PurePosixPath(f).name).read_bytes()
                     for f in task["files"]}
            files.update({str(inbox / "ca" / name): (pki.dir / "ca" / name).read_bytes()
                          for name in CA_FILES})
        return files

    def __init__(self, exam, item_id, title="", **spec):
        self.folder = Path(exam.folder)
        super().__init__(exam, item_id, title, **spec)
        self._ensure_files()

    def _ensure_files(self) -> None:
        paths = [self.folder / f for f in self.task["files"]]
        if all(p.exists() for p in paths) or in_grader(self.folder):
            return
        if self.exam.handed(self.item_id) is not None:  # the desk made them at fetch: gone since
            log.error("scenario documents missing in %s", paths[0].parent)
            self.report.value = status_html(t("questions.tasks.sig_files_missing"), False)
            return
        try:
            # Practice: the variant's seed is the public one, so the kernel may make them.
            task = self.variant(self.exam.exam_id, self.item_id, self.exam.learner, **self.spec)
            made = off_loop(self.handed_files, task, self.exam.learner)
            for rel, data in made.items():
                write_atomic(self.folder / rel, data, 0o644)
        except (KnsError, OSError) as exc:
            log.error("scenario documents not made in %s: %r", self.folder, exc)
            self.report.value = status_html(t("questions.tasks.sig_no_files"), False)

    def prompt_html(self):
        return para("questions.tasks.sig_find_prompt", n=self.task["count"],
                    folder=Path(self.task["files"][0]).parent)

    def build_inputs(self):
        names = [Path(f).name for f in self.task["files"]]
        self.pick_file = w.Dropdown(options=list(zip(names, self.task["files"], strict=True)),
                                    description=label("sig_file"), style=STYLE, layout=WIDE)
        self.check_button = w.Button(description=label("sig_check"), button_style="info")
        self.report = w.HTML()
        self.check_button.on_click(lambda _b: self.check())
        self.bad = w.SelectMultiple(options=list(zip(names, self.task["files"], strict=True)),
                                    value=(), description=label("sig_bad_files"), style=STYLE,
                                    layout=WIDE)
        tool = w.VBox([w.HBox([self.pick_file, self.check_button]), self.report])
        return [tool, self.bad]

    def check(self) -> None:
        """The sandbox's verifier on the chosen file, item by item, as the learner sees it."""
        path = self.folder / self.pick_file.value
        try:
            report = off_loop(verify_pdf, path.read_bytes(), TrainingPKI(self.folder / self.inbox(self.task)), name=path.name,
                              profile="administrative")
        except (KnsError, OSError) as exc:
            message = exc.user_message if isinstance(exc, KnsError) else str(exc)
            self.report.value = status_html(message, False)
            return
        lines = [("✔ " if c.ok else "✘ ") + c.message for c in report.checks]
        self.report.value = status_html("\n".join(lines), report.ok)

    def get_value(self):
        return sorted(self.bad.value) or None

    def set_value(self, value):
        self.bad.value = tuple(v for v in value if v in self.task["files"])

    @classmethod
    def score(cls, task, value, points):
        if not value:
            return 0.0
        faulty = set(task["key"]["faulty"])
        chosen = set(value)
        hits, false_alarms = len(chosen & faulty), len(chosen - faulty)
        return round(points * max(0, hits - false_alarms) / len(faulty), 2) if faulty else 0.0


# -- sign a document ---------------------------------------------------------------------------


def document_text(pdf: bytes) -> str:
    """The text of the first page of the first revision (what the signer saw)."""
    from pypdf import PdfReader

    try:
        return PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or ""
    except Exception as exc:  # a broken file has no text to match; the verifier says why
        log.warning("no text in signed file: %r", exc)
        return ""


def signer_is(learner: str, serial: str, common_name: str | None) -> bool:
    """Was the certificate `serial` issued to `learner`? The CA's registry says; where the
    grader cannot read it, the staff directory's name is compared with the certificate's."""
    try:
        return grading_pki().get(serial).account == learner
    except KnsError:
        return False  # not issued by this CA
    except Exception as exc:  # registry unreadable for this account
        log.warning("CA registry not readable (%r); comparing names with the directory", exc)
    try:
        from sqlalchemy import select

        from kynangso.db import session_scope
        from kynangso.models import Staff
        from kynangso.settings import load_settings

        with session_scope(load_settings().database_url) as s:
            staff = s.scalar(select(Staff).where(Staff.username == learner))
            return staff is not None and staff.full_name == common_name
    except Exception as exc:
        log.error("cannot tell who signed (%r)", exc)
        return False


class SignFile(Question):
    """Sign the document generated in the exam folder with one's own personal certificate."""

    kind = "task_sign_file"
    PASSIVE = ("doc.signed", "integrity", "crypto", "chain", "validity", "revocation")

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        return {"number": f"{rng.randint(10, 300)}/UBND-VP", "subject": rng.choice(SUBJECTS),
                "file": f"{item_id}.pdf", "signed_file": f"{item_id}.da-ky.pdf",
                "kind": "personal", "learner": learner}

    @staticmethod
    def make_document(task, signer_name: str = "") -> bytes:
        return sample.make_document(organisation=ORG, number=task["number"],
                                    subject=task["subject"], signer_title="PHÓ CHỦ TỊCH",
                                    signer_name=signer_name or "(người ký)")

    def __init__(self, exam, item_id, title="", **spec):
        self.folder = Path(exam.folder)
        super().__init__(exam, item_id, title, **spec)
        self._fill_certificates()

    def _ensure_file(self, signer_name: str) -> Path:
        path = self.folder / self.task["file"]
        if not path.exists() and not in_grader(self.folder):
            write_atomic(path, self.make_document(self.task, signer_name), 0o644)
        return path

    def prompt_html(self):
        return para("questions.tasks.sign_prompt", file=self.task["file"],
                    number=self.task["number"], subject=self.task["subject"],
                    signed=self.task["signed_file"])

    def build_inputs(self):
        self.certificate = w.Dropdown(options=[(t("questions.tasks.choose"), None)], value=None,
                                      description=label("sign_certificate"), style=STYLE,
                                      layout=WIDE)
        self.passphrase = w.Password(description=label("sign_passphrase"), style=STYLE,
                                     layout=WIDE)
        self.button = w.Button(description=label("sign_button"), button_style="primary")
        self.report = w.HTML()
        self.button.on_click(lambda _b: self.sign())
        self._signed: dict[str, Any] | None = None
        panel = w.VBox([self.certificate, self.passphrase, self.button, self.report])
        return [panel]

    def _fill_certificates(self) -> None:
        if in_grader(self.folder):
            return
        try:
            self.pki = signing_pki()
            now = self.pki.clock()
            mine = self.pki.own_certificates(signing_account(self.exam.learner))
        except KnsError as exc:
            self.report.value = status_html(exc.user_message, False)
            return
        usable = [c for c in mine if c.status_at(now) == "valid"]
        self.certificate.options = [(t("questions.tasks.choose"), None)] + [
            (t("questions.tasks.sign_cert_option", name=c.common_name,
               kind=t(f"signing.kind_{c.kind}"), until=c.not_after.strftime("%d/%m/%Y")),
             c.serial) for c in usable]
        self._certs = {c.serial: c for c in usable}
        if not usable:
            self.report.value = status_html(t("questions.tasks.sign_no_certificate"), False)
            return
        person = next((c for c in usable if c.kind == "personal"), usable[0])
        self._ensure_file(person.common_name)

    def sign(self) -> None:
        serial = self.certificate.value
        if serial is None:
            self.report.value = status_html(t("questions.tasks.sign_need_certificate"), False)
            return
        cert = self._certs[serial]
        try:
            key = sign.load_key(cert.key_path, self.passphrase.value, self.pki)
            source = self._ensure_file(cert.common_name).read_bytes()
            signer = sign.sign_personal if cert.kind == "personal" else sign.sign_organisation
            signed = off_loop(signer, source, key, self.pki, name=self.task["file"])
            report = off_loop(verify_pdf, signed, self.pki, name=self.task["signed_file"],
                              profile="any")
        except KnsError as exc:
            self.report.value = status_html(exc.user_message, False)
            return
        finally:
            self.passphrase.value = ""  # never leave a passphrase on screen
        write_atomic(self.folder / self.task["signed_file"], signed, 0o644)
        self._signed = {"file": self.task["signed_file"], "serial": serial}
        lines = [t("questions.tasks.sign_done", file=self.task["signed_file"])]
        lines += [("✔ " if c.ok else "✘ ") + c.message for c in report.checks]
        self.report.value = status_html("\n".join(lines), report.ok)
        self.save()

    def get_value(self):
        return self._signed

    def set_value(self, value):
        self._signed = dict(value)
        self.report.value = status_html(t("questions.tasks.sign_saved",
                                          file=value.get("file", "")), None)

    @classmethod
    def criteria(cls, task, folder: Path | None = None) -> dict[str, bool]:
        """The signed file in the submission, judged on its merits by the sandbox's verifier."""
        path = (folder or Path.cwd()) / task["signed_file"]
        none = {"valid": False, "covers_document": False, "signer": False, "kind": False}
        try:
            data = path.read_bytes()
            report = off_loop(verify_pdf, data, grading_pki(), name=path.name, profile="any")
        except (OSError, KnsError) as exc:
            log.info("signed file %s not gradable: %r", path, exc)
            return none
        if not report.signatures:
            return none
        first = report.signatures[0]
        ids = {c.id.split(".", 1)[-1] if c.id.startswith("sig1.") else c.id: c.ok
               for c in report.checks if c.signature in (None, 1)}
        valid = all(ids.get(k, False) for k in cls.PASSIVE)
        if not valid:
            return none
        return {"valid": True,
                "covers_document": ids.get("modifications", False)
                and task["number"] in document_text(data),
                "signer": signer_is(task["learner"], first.serial, first.signer),
                "kind": first.kind == task["kind"]}

    @classmethod
    def score(cls, task, value, points, folder: Path | None = None):
        met = cls.criteria(task, folder)
        return share([(4.0, met["valid"]), (2.0, met["covers_document"]),
                      (2.0, met["signer"]), (2.0, met["kind"])], points)


__all__ = ["FindInvalidSignature", "SignFile", "grading_pki", "new_scenario_pki", "signing_pki"]
