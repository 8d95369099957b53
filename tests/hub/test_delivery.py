"""Course delivery merges like nbgitpuller: new lessons arrive, learners' edits are never lost."""

import json
from pathlib import Path

from kynangso.hub.delivery import MANIFEST, deliver, lesson_files


def lesson(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [{"source": text}]}, ensure_ascii=False), encoding="utf-8")


def make_source(root: Path) -> Path:
    src = root / "courses"
    lesson(src / "00-lam-quen" / "01-dang-nhap.ipynb", "Bài 1")
    lesson(src / "01-van-ban" / "01-so-ky-hieu.ipynb", "Số, ký hiệu")
    (src / "c01").mkdir()
    (src / "c01" / "lesson1.py").write_text("print('code stays in the package')")
    (src / "catalogue.yaml").write_text("courses: []")
    return src


def test_first_delivery_copies_lessons_only(tmp_path):
    """Does a new home get every lesson, and none of the Python behind the widgets?"""
    src, home = make_source(tmp_path), tmp_path / "home"
    report = deliver(src, home, "KhoaHoc")
    assert sorted(report.added) == ["00-lam-quen/01-dang-nhap.ipynb", "01-van-ban/01-so-ky-hieu.ipynb"]
    assert (home / "KhoaHoc" / "01-van-ban" / "01-so-ky-hieu.ipynb").exists()
    assert not (home / "KhoaHoc" / "c01").exists()
    assert (home / MANIFEST).exists()


def test_update_reaches_untouched_lesson(tmp_path):
    """Does a new version of a lesson the learner never changed replace the old one?"""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    lesson(src / "00-lam-quen" / "01-dang-nhap.ipynb", "Bài 1 (sửa lỗi chính tả)")
    report = deliver(src, home, "KhoaHoc")
    assert report.updated == ["00-lam-quen/01-dang-nhap.ipynb"]
    assert "sửa lỗi" in (home / "KhoaHoc" / "00-lam-quen" / "01-dang-nhap.ipynb").read_text(encoding="utf-8")


def test_learners_edit_is_never_overwritten(tmp_path):
    """Is an edited lesson kept as it is, with the new version delivered beside it?"""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    mine = home / "KhoaHoc" / "01-van-ban" / "01-so-ky-hieu.ipynb"
    lesson(mine, "Bài làm của tôi")
    lesson(src / "01-van-ban" / "01-so-ky-hieu.ipynb", "Số, ký hiệu (bản 2)")
    report = deliver(src, home, "KhoaHoc")
    assert report.kept_changed == ["01-van-ban/01-so-ky-hieu.ipynb"]
    assert "Bài làm của tôi" in mine.read_text(encoding="utf-8")
    assert "bản 2" in (mine.parent / "01-so-ky-hieu-ban-moi.ipynb").read_text(encoding="utf-8")
    # Delivering again changes nothing more.
    again = deliver(src, home, "KhoaHoc")
    assert again.kept_changed == ["01-van-ban/01-so-ky-hieu.ipynb"] and not again.updated
    assert "Bài làm của tôi" in mine.read_text(encoding="utf-8")


def test_new_lesson_appears_and_deleted_one_returns(tmp_path):
    """Does a lesson added to the platform appear, and a deleted one come back?"""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    (home / "KhoaHoc" / "00-lam-quen" / "01-dang-nhap.ipynb").unlink()
    lesson(src / "00-lam-quen" / "02-tien-do.ipynb", "Tiến độ của tôi")
    report = deliver(src, home, "KhoaHoc")
    assert sorted(report.added) == ["00-lam-quen/01-dang-nhap.ipynb", "00-lam-quen/02-tien-do.ipynb"]


def test_installed_courses_are_all_delivered():
    """Are all the notebooks of the real course catalogue picked up for delivery?"""
    import courses

    root = Path(courses.__file__).parent
    files = {p.as_posix() for p in lesson_files(root)}
    notebooks = {p.relative_to(root).as_posix() for p in root.glob("[0-9]*/**/*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts}
    assert notebooks and notebooks <= files
