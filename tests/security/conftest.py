"""Fixtures shared by the security tests."""

from __future__ import annotations

import pytest

from kynangso.hub.harness import isolated_hub

# The accounts of the exam attacks' shared hub: an instructor and two (advanced) learners.
EXAM_HUB_STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "hocvien02": ("Trần Văn Minh", "hocvien", "HocVien2@2026"),
}


@pytest.fixture(scope="session")
def exam_hub(tmp_path_factory):
    """An isolated hub (root) with EXAM_HUB_STAFF, shared by the exam attacks that each use
    exams of their own, close the windows they open and leave the course's gradebook in place
    (test_answer_oracle.py, test_learner_content.py, test_exam_mode.py, test_exam_paths.py): one
    hub start for all four (tests/conftest.py groups them)."""
    with isolated_hub(tmp_path_factory.mktemp("exam-hub"), EXAM_HUB_STAFF, tag="o") as hub:
        yield hub
