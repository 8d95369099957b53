"""Issue 14, part 3, without a hub: variants drawn from the course's secret, the inputs the desk
hands out, and the keys the grader writes into the hidden tests (assessments/grading/keys.py)."""

from __future__ import annotations

import ast
import json

import nbformat

from assessments.grading.keys import AnswerKeys, inject, load_keys
from assessments.questions.identity import seed_for, variant_secret
from assessments.questions.tasks.documents import ReadSymbol
from kynangso.exams.variants import handed, task_items
from tests.assessments.grading.exam_cases import EXAMS_DIR

SECRET = b"0123456789abcdef" * 4
EXAM = "van-ban"


def notebook_bytes(exam: str) -> bytes:
    return (EXAMS_DIR / "source" / exam / f"{exam}.ipynb").read_bytes()


def test_a_secret_changes_every_seed_and_only_inside_its_block():
    """Does the secret decide the seed, and is the public seed back outside the block?"""
    public = seed_for(EXAM, "so-ky-hieu", "hv1")
    with variant_secret(SECRET):
        secret = seed_for(EXAM, "so-ky-hieu", "hv1")
        with variant_secret(b"another secret, also long enough!!"):
            other = seed_for(EXAM, "so-ky-hieu", "hv1")
    assert len({public, secret, other}) == 3
    assert seed_for(EXAM, "so-ky-hieu", "hv1") == public


def test_the_desk_hands_out_inputs_without_the_hidden_parts():
    """Does the handed file hold each task's inputs for this learner, and never the corrected
    số, ký hiệu nor a key?"""
    items = {item for _m, item, _s in task_items(notebook_bytes(EXAM))}
    assert items == {"so-ky-hieu", "dang-ky-den", "han-xu-ly"}
    data = json.loads(handed(EXAM, "hv1", [notebook_bytes(EXAM)], SECRET)[f"{EXAM}.variant.json"])
    assert data["exam"] == EXAM and data["learner"] == "hv1" and set(data["items"]) == items
    with variant_secret(SECRET):
        whole = ReadSymbol.variant(EXAM, "so-ky-hieu", "hv1")
    assert data["items"]["so-ky-hieu"] == {k: v for k, v in whole.items() if k != "expected"}
    assert "expected" not in json.dumps(data) and '"key"' not in json.dumps(data)


def test_the_desk_makes_the_signed_documents_and_keeps_their_seed(tmp_path):
    """Does the desk hand over the signed documents to check and their scenario CA's public
    part, without the seed that made them (from which the answer follows), and does each
    document verify as the grader's key (recomputed from the seed) says?"""
    from assessments.questions.tasks.signing import FindInvalidSignature
    from sandbox.signing.pki import TrainingPKI
    from sandbox.signing.verify import verify_pdf

    made = handed("chu-ky-so", "hv1", [notebook_bytes("chu-ky-so")], SECRET)
    shown = json.loads(made["chu-ky-so.variant.json"])["items"]["kiem-tra-chu-ky"]
    assert "seed" not in shown and "key" not in shown
    for rel, data in made.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    assert not list(tmp_path.rglob("*.key")) and not (tmp_path / "kiem-tra-chu-ky" / "ca" / "private").exists()
    keys = load_keys(EXAMS_DIR / "answer_keys.py")
    with variant_secret(SECRET):
        whole = FindInvalidSignature.variant("chu-ky-so", "kiem-tra-chu-ky", "hv1")
    faulty = set(keys.key("task_find_invalid_signature", whole)["faulty"])
    assert faulty and faulty < set(shown["files"])
    pki = TrainingPKI(tmp_path / "kiem-tra-chu-ky")
    verdicts = {f: verify_pdf((tmp_path / f).read_bytes(), pki, name=f, profile="administrative").ok
                for f in shown["files"]}
    assert {f for f, ok in verdicts.items() if not ok} == faulty, verdicts


def test_the_grader_writes_the_secret_variant_and_its_key_into_the_hidden_test():
    """Is each score_item call of a task given the student's whole task and key, computed
    with the secret; and is a test cell without a task left as it is?"""
    keys = load_keys(EXAMS_DIR / "answer_keys.py")
    nb = nbformat.reads(notebook_bytes(EXAM).decode(), as_version=4)
    cells = [c for c in nb.cells if "score_item(" in c.source]
    assert len(cells) == 3
    for cell in cells:
        out = inject(cell.source, "hv1", SECRET, keys)
        call = next(n for n in ast.walk(ast.parse(out)) if isinstance(n, ast.Call)
                    and getattr(n.func, "id", "") == "score_item")
        task = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "task"))
        assert task["key"], out
        assert inject(out, "hv1", SECRET, keys) == out  # written once
        item = ast.literal_eval(call.args[1])
        shown = json.loads(handed(EXAM, "hv1", [notebook_bytes(EXAM)], SECRET)[f"{EXAM}.variant.json"])
        assert {k: v for k, v in task.items() if k in shown["items"][item]} \
            == shown["items"][item]  # the grader's task is the one the learner was shown
    plain = next(c for c in nb.cells if "score_single(" in c.source)
    assert inject(plain.source, "hv1", SECRET, keys) == plain.source
    assert AnswerKeys  # the preprocessor the platform's config names


def test_an_existing_course_gets_the_answer_keys_once(tmp_path):
    """Does a course made before this change get the preprocessor (last, after strict
    grading) and the grader's answer_keys.py (0600), once?"""
    import os

    from traitlets.config.loader import PyFileConfigLoader

    from kynangso.exams.course import (
        ANSWER_KEYS_PREPROCESSOR,
        NBGRADER_CONFIG,
        ExamPlaces,
        ensure_answer_keys,
    )

    where = ExamPlaces(tmp_path, "kiem-tra")
    where.course.mkdir()
    old = NBGRADER_CONFIG.replace(f'    "{ANSWER_KEYS_PREPROCESSOR}",\n', "")
    assert ANSWER_KEYS_PREPROCESSOR not in old
    config = where.course / "nbgrader_config.py"
    config.write_text(old.format(course="c", course_id="kiem-tra", exchange="e"), encoding="utf-8")
    keys = (EXAMS_DIR / "answer_keys.py").read_bytes()
    ensure_answer_keys(where, keys)
    ensure_answer_keys(where, keys)
    assert config.read_text(encoding="utf-8").count(ANSWER_KEYS_PREPROCESSOR) == 1
    loaded = PyFileConfigLoader(config.name, str(where.course)).load_config()
    order = list(loaded.Autograde.sanitize_preprocessors)
    assert order[-1] == ANSWER_KEYS_PREPROCESSOR and "assessments.grading.strict.RemoveAddedCells" in order
    target = where.course / "answer_keys.py"
    assert target.read_bytes() == keys and os.stat(target).st_mode & 0o777 == 0o600
