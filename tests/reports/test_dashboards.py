"""The dashboards: driven in-process as HR would use them, and executed headless (nbclient)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from reports.dashboard import Needs, Overview, Profile

DASHBOARDS = Path(__file__).parents[2] / "reports" / "dashboards"


def test_overview_filters(data):
    """Does choosing a department and a period change the numbers shown?"""
    view = Overview(data, "VP")
    assert "Số cán bộ trong phạm vi đã chọn: 4" in view.body.value
    view.department.value = "Phòng Kinh tế"
    assert "Số cán bộ trong phạm vi đã chọn: 2" in view.body.value
    view.period.value = "thi-nang-luc/ky-1"
    assert "Bài kiểm tra (mẫu) – kỳ 1 (31/03/2026)" in view.body.value


def test_department_pdf_needs_a_department(data):
    """Is the department PDF offered only once a department is chosen (greyed, saying why,
    before), and do the download links follow the filters?"""
    view = Overview(data, "VP")
    assert "kns-off" in view.link.value and "export/tong-quan.pdf" not in view.link.value
    assert "export/tong-quan.xlsx" in view.link.value
    view.department.value = "Phòng Kinh tế"
    assert "export/tong-quan.pdf?department=Ph%C3%B2ng+Kinh+t%E1%BA%BF" in view.link.value
    assert "kns-off" not in view.link.value


def test_profile_shows_history_and_gaps(data):
    """Does the profile of the Văn thư show both periods, her course and the KS.2 gap?"""
    view = Profile(data, "VP")
    view.person.value = "an"
    body = view.body.value
    for expected in ("Nguyễn Thị An", "Bài kiểm tra (mẫu) – kỳ 1 (31/03/2026)", "Bài kiểm tra (mẫu) – kỳ 2 (30/09/2026)", "Văn bản điện tử",
                     "Đã hoàn thành", "KS.2", "Ký số văn bản"):
        assert expected in body


def test_needs_grouped(data):
    """Does the needs list count the people below their level and filter by competence?"""
    view = Needs(data, "VP")
    view.competence.value = "KS.2"
    assert "1 cán bộ chưa đạt mức yêu cầu, tổng cộng 1 năng lực" in view.body.value


def widget_text(nb) -> str:
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    values = [m["state"].get("value") for m in state.get("state", {}).values()]
    return "\n".join(v for v in values if isinstance(v, str))


@pytest.fixture(scope="module")
def executed(office, tmp_path_factory):
    """Each dashboard notebook run in a real kernel against the hand-worked office."""
    platform, sources = office
    folder = tmp_path_factory.mktemp("settings")
    settings = folder / "settings.yaml"
    settings.write_text(json.dumps({"state_dir": str(folder / "state"),
                                    "database": {"url": platform}}), encoding="utf-8")
    env = {
        "KNS_SETTINGS": str(settings),
        "KNS_REPORTS_GRADEBOOKS": json.dumps([{"db_url": s.db_url, "course_dir": str(s.course_dir)}
                                              for s in sources]),
        "PYTHONPATH": str(DASHBOARDS.parents[1]),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out = {}
    try:
        for name in ("tong-quan", "nhu-cau-dao-tao", "ho-so-ca-nhan"):
            nb = nbformat.read(DASHBOARDS / f"{name}.ipynb", as_version=4)
            NotebookClient(nb, timeout=120, kernel_name="python3").execute()
            out[name] = nb
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out


@pytest.mark.parametrize("name", ["tong-quan", "nhu-cau-dao-tao", "ho-so-ca-nhan"])
def test_notebooks_run_without_errors(executed, name):
    """Does every dashboard run headless with no error output (nothing a traceback could show)?"""
    for cell in executed[name].cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error"
            assert output.get("name") != "stderr", output.get("text")


def test_overview_notebook_numbers(executed):
    """Does the executed overview show the office's numbers (4 people, 1 Văn thư at Thành thạo)?"""
    text = widget_text(executed["tong-quan"])
    assert "Số cán bộ trong phạm vi đã chọn: 4" in text
    assert "Tổng quan đơn vị" in text
    assert "Văn phòng HĐND và UBND phường Hòa Bình" in text
    assert "Bài kiểm tra (mẫu) – kỳ 2 (30/09/2026)" in text


def test_needs_notebook_numbers(executed):
    """Does the executed needs dashboard count the 4 people and list the Văn thư's KS.2 gap?"""
    text = widget_text(executed["nhu-cau-dao-tao"])
    assert "4 cán bộ chưa đạt mức yêu cầu" in text
    assert "Nguyễn Thị An" in text


def test_reload_reads_the_data_again(data):
    """Does 'Cập nhật dữ liệu' read the sources again and say when?"""
    calls = []

    def loader():
        calls.append(1)
        return data, "VP mới"

    view = Needs(data, "VP", loader)
    assert "Dữ liệu đọc lúc" in view.loaded.value
    view.reload.click()
    assert calls == [1] and view.office == "VP mới" and view.message.value == ""
    assert Needs(data, "VP").reload.disabled  # nothing to reload from when data was given


def test_filters_show_their_label_before_any_choice(data):
    """Does each filter show "Tất cả" / the latest period rather than an empty box (a Dropdown
    whose value is None shows nothing), and do the counts on the needs chart stay whole?"""
    from kynangso.i18n import t

    # The browser shows the option at `index`; a None value syncs index None (empty box).
    for view in (Overview(data, "VP"), Needs(data, "VP")):
        assert view.department.index == 0 and view.department.label == t("reports.ui.all")
        assert view.period.index == 0 and view.period.label == t("reports.latest_period")
    assert Needs(data, "VP").competence.index == 0
    assert Overview(data, "VP").position.index == 0
    assert Profile(data, "VP").period.index == 0
    body = Needs(data, "VP").body.value
    assert ">0,5<" not in body and ">1,5<" not in body
