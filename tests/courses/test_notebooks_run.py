"""Every lesson notebook runs headless, start to end, without a hub, and shows no error."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from courses.catalogue import load_catalogue

LESSONS = load_catalogue().lessons()
WIDGET = "application/vnd.jupyter.widget-view+json"


def execute(nb, tmp_path: Path) -> Path:
    """Run `nb` in a fresh python3 kernel with a throwaway home and no hub; return the home."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("KNS_PROGRESS_URL", "JUPYTERHUB_API_TOKEN", "KNS_COURSES_DIR")}
    env |= {"HOME": str(home), "JUPYTERHUB_USER": "hocvien",
            "PYTHONPATH": os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")}
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)
    try:
        client.start_new_kernel_client()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    finally:
        client._cleanup_kernel()
    return home


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.ref for lesson in LESSONS])
def test_notebook_executes(lesson, tmp_path):
    """Does the lesson run in a fresh kernel with no error, no stderr, and a widget per cell?"""
    nb = nbformat.read(load_catalogue().notebook_path(lesson), as_version=4)
    home = execute(nb, tmp_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kinds = [o.output_type for o in cell.outputs]
        assert "error" not in kinds, cell.source
        streams = [o.text for o in cell.outputs if o.output_type == "stream"]
        assert not streams, (cell.source, streams)  # a learner must see no log or warning
        assert any(WIDGET in o.get("data", {}) for o in cell.outputs), cell.source
    assert (home / ".kynangso" / "progress-queue.jsonl").exists()  # lesson_opened was queued


def test_signing_check_inside_a_real_kernel(tmp_path):
    """In a real kernel (whose event loop is running), does a signing exercise sign, verify and
    answer, with nothing on stderr?"""
    src = ("from courses.c02 import ky_so\n"
           "ex = ky_so.exercise_sign()\n"
           "ex.certificate.value = ex.task['role']\n"
           "ex.passphrase.value = 'luyen-tap-ky-so'\n"
           "print(ex.check().ok)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
    execute(nb, tmp_path)
    assert [o.get("text") for o in nb.cells[0].outputs] == ["True\n"]
