"""The signing tasks: the documents to check are generated once in the exam folder, never in
the grader's; the learner signs with their own training certificate and the file is graded
on its merits by the sandbox's verifier."""

from __future__ import annotations

import shutil

import pytest

from assessments.questions import Exam
from assessments.questions.tasks.signing import FindInvalidSignature, SignFile
from sandbox.signing import tamper
from sandbox.signing.pki import Subject, TrainingPKI
from tests.assessments.questions.keys import whole

PASS = "mat-khau-thi-123"


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    base = tmp_path_factory.mktemp("ks")
    pki = TrainingPKI.create(base / "state" / "pki")
    pki.issue(Subject("Trần Thị Ký", "UBND phường Hòa Bình", "Hà Thành", title="Chuyên viên"),
              PASS, account="hv-ky")
    pki.issue(Subject("Người Khác", "UBND phường Hòa Bình", "Hà Thành", title="Chuyên viên"),
              PASS, account="hv-khac")
    return base


@pytest.fixture
def env(state, tmp_path, monkeypatch):
    monkeypatch.setenv("KNS_STATE_DIR", str(state / "state"))
    monkeypatch.setenv("HOME", str(state / "home"))
    monkeypatch.setenv("JUPYTERHUB_USER", "hv-ky")
    monkeypatch.delenv("KNS_SIGNING_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_find_invalid_generates_once_and_scores(env):
    """Without a desk (practice), are the documents made once, with their scenario CA's
    public part and no private key in the exam folder; does the verifier show its report; and
    is the choice of faulty files scored from the seed (all, some, wrong)?"""
    q = Exam("chu-ky-so", env).task_find_invalid_signature("kiem-tra-chu-ky")
    files = [env / f for f in q.task["files"]]
    assert all(f.exists() for f in files)
    stamp = [f.stat().st_mtime_ns for f in files]
    Exam("chu-ky-so", env).task_find_invalid_signature("kiem-tra-chu-ky")
    assert [f.stat().st_mtime_ns for f in files] == stamp  # not regenerated
    assert (env / "kiem-tra-chu-ky" / "ca" / "root.pem").exists()
    assert not [p for p in env.rglob("*") if p.suffix == ".key" or p.name == "private"]
    assert "seed" not in q.task  # what makes the documents is the grader's, not the widget's
    faulty = whole(q)["key"]["faulty"]
    q.pick_file.value = faulty[0]
    q.check_button.click()
    assert "✘" in q.report.value
    q.bad.value = tuple(faulty)
    assert FindInvalidSignature.score(whole(q), q.get_value(), 4) == 4.0
    q.bad.value = tuple(faulty[:1])
    assert FindInvalidSignature.score(whole(q), q.get_value(), 4) == 2.0
    valid = [f for f in q.task["files"] if f not in faulty]
    assert FindInvalidSignature.score(whole(q), valid, 4) == 0.0


def test_grader_folder_generates_nothing(env):
    """Does the task in nbgrader's autograded folder leave the folder untouched?"""
    folder = env / "autograded" / "hv-ky" / "chu-ky-so"
    folder.mkdir(parents=True)
    Exam("chu-ky-so", folder).task_find_invalid_signature("kiem-tra-chu-ky")
    Exam("chu-ky-so", folder).task_sign_file("ky-van-ban")
    assert list(folder.iterdir()) == []


def test_sign_file_right(env):
    """Does signing with one's own personal certificate earn all points, judged on the file?"""
    q = Exam("chu-ky-so", env).task_sign_file("ky-van-ban")
    assert (env / q.task["file"]).exists()
    q.certificate.value = q.certificate.options[1][1]
    q.passphrase.value = PASS
    q.button.click()
    assert "Đã ký" in q.report.value and q.passphrase.value == ""
    assert SignFile.criteria(q.task) == {"valid": True, "covers_document": True,
                                         "signer": True, "kind": True}
    assert SignFile.score(q.task, q.get_value(), 5) == 5.0


def test_sign_wrong_passphrase_is_refused(env):
    """Is a wrong passphrase refused with a message, and nothing signed?"""
    q = Exam("chu-ky-so", env).task_sign_file("ky-van-ban")
    q.certificate.value = q.certificate.options[1][1]
    q.passphrase.value = "sai-mat-khau"
    q.button.click()
    assert "mật khẩu" in q.report.value.lower()
    assert not (env / q.task["signed_file"]).exists()
    assert SignFile.score(q.task, None, 5) == 0.0


def test_sign_partial_and_wrong_files(env):
    """Is a page added after signing partly right, another learner's signature marked down,
    and an unsigned file worth nothing?"""
    q = Exam("chu-ky-so", env).task_sign_file("ky-van-ban")
    q.certificate.value = q.certificate.options[1][1]
    q.passphrase.value = PASS
    q.button.click()
    signed = env / q.task["signed_file"]
    good = signed.read_bytes()
    signed.write_bytes(tamper.add_page(good))
    assert SignFile.criteria(q.task)["covers_document"] is False
    assert SignFile.score(q.task, q.get_value(), 5) == 4.0
    other = dict(q.task, learner="hv-khac")
    signed.write_bytes(good)
    assert SignFile.score(other, q.get_value(), 5) == 4.0
    shutil.copy(env / q.task["file"], signed)
    assert SignFile.score(q.task, q.get_value(), 5) == 0.0


def test_no_certificate_says_what_to_do(env, monkeypatch):
    """Does a learner without a certificate read where to get one?"""
    monkeypatch.setenv("JUPYTERHUB_USER", "hv-chua-co")
    q = Exam("chu-ky-so", env).task_sign_file("ky-van-ban")
    assert "chưa có chứng thư" in q.report.value
    q.button.click()
    assert "chưa chọn" in q.report.value
