"""Lesson 02: signing. The learner picks a certificate of their practice CA and enters its
passphrase; the sandbox's signing code (sandbox.signing.sign) accepts or refuses, and its
verifier (sandbox.signing.verify) reports on the result. Refusals are the feedback."""

from __future__ import annotations

import ipywidgets as w

from courses.c02 import COURSE, practice
from courses.common import para, practice_dir
from courses.exercises import STYLE, WIDE, Exercise, Feedback
from kynangso.asyncio_compat import off_loop
from kynangso.i18n import t
from sandbox.signing import sample, sign
from sandbox.signing.pki import write_atomic
from sandbox.signing.verify import verify_pdf

LESSON = "02-ky-so"
SUBJECTS = ("tổ chức tập huấn chữ ký số", "rà soát hồ sơ một cửa quý I",
            "kế hoạch chuyển đổi số năm 2026", "báo cáo cải cách hành chính")


class SignDocument(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "ky-van-ban"
    title_key = "courses.c02.title_sign"
    local_wording = True  # the signed file is in the learner's folder, not the service's

    def __init__(self):
        self.practice = practice.practice()
        super().__init__()

    @classmethod
    def make_task(cls, rng):
        role = rng.choice(["personal", "organisation"])
        number = f"{rng.randint(10, 300)}/UBND-VP"
        return {"role": role, "number": number, "subject": rng.choice(SUBJECTS)}

    @staticmethod
    def _document(task: dict, p: practice.Practice) -> bytes:
        pdf = sample.make_document(organisation=practice.ORG, number=task["number"],
                                   subject=task["subject"],
                                   signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
                                   signer_name=p.personal.common_name)
        if task["role"] == "organisation":  # the competent person has already signed
            key = sign.load_key(p.personal.key_path, practice.PASSPHRASE, p.pki)
            pdf = off_loop(sign.sign_personal, pdf, key, p.pki)
        return pdf

    def build_inputs(self):
        now = self.practice.pki.clock()
        options = [(t("courses.c02.cert_option", name=c.common_name,
                      kind=t(f"signing.kind_{c.kind}"),
                      status=t(f"signing.w_status_{c.status_at(now)}")), key)
                   for key, c in self.practice.certificates().items()]
        self.certificate = w.Dropdown(options=[(t("courses.c02.choose_cert"), None)] + options,
                                      value=None, description=t("courses.c02.cert"),
                                      style=STYLE, layout=WIDE)
        self.passphrase = w.Password(description=t("courses.c02.passphrase"), style=STYLE,
                                     layout=WIDE)
        return [self.certificate, self.passphrase]

    def reset_inputs(self):
        self.certificate.value = None
        self.passphrase.value = ""

    def prompt(self):
        k = self.task
        return (para(f"courses.c02.sign_prompt_{k['role']}", number=k["number"],
                     subject=k["subject"])
                + para("courses.c02.sign_passphrase", passphrase=practice.PASSPHRASE))

    def answer_value(self):
        if self.certificate.value is None:
            return None
        # the practice passphrase printed in the lesson, sent with the choice of certificate
        answer = {"certificate": self.certificate.value, "passphrase": self.passphrase.value}
        self.passphrase.value = ""  # never leave a passphrase on screen
        return answer

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        # the learner's practice CA: in their kernel their own, in the progress service the
        # service's copy for them (courses.common.acting_for)
        p = practice.practice()
        cert = p.certificates()[answer["certificate"]]
        key = sign.load_key(cert.key_path, str(answer["passphrase"]), p.pki)
        pdf = cls._document(task, p)
        if task["role"] == "personal":
            signed = off_loop(sign.sign_personal, pdf, key, p.pki)
        else:
            signed = off_loop(sign.sign_organisation, pdf, key, p.pki)
        report = off_loop(verify_pdf, signed, p.pki, name="van-ban.pdf",
                            profile="administrative" if task["role"] == "organisation"
                            else "any")
        out = practice_dir() / "da-ky" / f"{task['number'].replace('/', '-')}.da-ky.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, signed, 0o600)
        bad = [c.message for c in report.checks if not c.ok]
        if bad:  # cannot happen with a valid certificate; shown rather than hidden if it does
            return Feedback(False, "\n".join(bad))
        return Feedback(True, t(f"courses.c02.signed_{task['role']}", file=str(out)))


def exercise_sign() -> SignDocument:
    return SignDocument()


def example():
    """Worked example: a document signed with the learner's personal practice certificate, and
    what the verifier says about it."""
    from courses.common import status_html

    p = practice.practice()
    pdf = sample.make_document(organisation=practice.ORG, number="05/UBND-VP",
                               subject="ví dụ ký số", signer_title="PHÓ CHỦ TỊCH",
                               signer_name=p.personal.common_name)
    key = sign.load_key(p.personal.key_path, practice.PASSPHRASE, p.pki)
    signed = off_loop(sign.sign_personal, pdf, key, p.pki)
    report = off_loop(verify_pdf, signed, p.pki, name="vi-du.pdf", profile="any")
    lines = [("✔ " if c.ok else "✘ ") + c.message for c in report.checks]
    return w.HTML(status_html("\n".join(lines), report.ok))
