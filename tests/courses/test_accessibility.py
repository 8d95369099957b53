"""Lesson text a screen reader handles: headings in order, alt text, labelled inputs, hidden
code cells."""

from __future__ import annotations

import re

import ipywidgets as w
import nbformat
import pytest

from courses.catalogue import load_catalogue
from tests.courses.cells import run_cells

LESSONS = load_catalogue().lessons()
IDS = [lesson.ref for lesson in LESSONS]
INPUTS = (w.Text, w.Textarea, w.Password, w.Dropdown, w.RadioButtons, w.Checkbox, w.DatePicker,
          w.IntText, w.BoundedIntText, w.FloatText, w.BoundedFloatText, w.FileUpload,
          w.SelectMultiple, w.ToggleButtons, w.Select)


def notebook(lesson):
    return nbformat.read(load_catalogue().notebook_path(lesson), as_version=4)


def headings(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            in_code = False
            for line in cell.source.splitlines():
                if line.startswith("```"):
                    in_code = not in_code
                m = re.match(r"^(#{1,6})\s+\S", line)
                if m and not in_code:
                    yield len(m.group(1))


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_headings_start_at_one_and_do_not_skip(lesson):
    """Does the lesson open with one level-1 heading, and never skip a heading level?"""
    nb = notebook(lesson)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    levels = list(headings(nb))
    assert levels.count(1) == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_images_have_alt_text(lesson):
    """Does every image in the lesson text carry alt text?"""
    for cell in notebook(lesson).cells:
        if cell.cell_type != "markdown":
            continue
        for alt in re.findall(r"!\[([^\]]*)\]\(", cell.source):
            assert alt.strip(), cell.source
        for tag in re.findall(r"<img\b[^>]*>", cell.source, flags=re.I):
            assert re.search(r'alt="[^"]+"', tag), tag


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_code_cells_hidden_and_short(lesson):
    """Is every code cell hidden from the learner, and short (one import, one call)?"""
    for cell in notebook(lesson).cells:
        if cell.cell_type == "code":
            assert cell.metadata["jupyter"]["source_hidden"] is True
            assert "hide-input" in cell.metadata["tags"]
            assert len([line for line in cell.source.splitlines() if line.strip()]) <= 2


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_every_input_is_labelled(lesson, home):
    """Does every input a learner can reach in the lesson carry a label (its description)?"""
    for value in run_cells(load_catalogue().notebook_path(lesson)):
        if not isinstance(value, w.Widget):
            continue
        for widget in walk(value):
            if isinstance(widget, INPUTS):
                label = widget.description or getattr(widget, "tooltip", None)
                assert label and label.strip(), (lesson.ref, type(widget).__name__)
            if isinstance(widget, w.Button):
                assert widget.description or widget.tooltip, lesson.ref


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_notebook_is_valid_and_clean(lesson):
    """Is the notebook valid nbformat 4, on the python3 kernel, and shipped without outputs?"""
    nb = notebook(lesson)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
