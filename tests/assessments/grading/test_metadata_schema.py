"""The cached metadata validator (worker.cache_metadata_schema) accepts and rejects the same
cell metadata as nbgrader's own `jsonschema.validate` call, with the same error."""

from __future__ import annotations

import copy

import jsonschema
import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator, common

from assessments.grading.worker import _CachedJsonschema, cache_metadata_schema


def _cell(**meta):
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {"grade_id": "q1", "schema_version": 3, "grade": True,
                                 "solution": False, "locked": True, "points": 2, **meta}
    return cell


BROKEN = [
    {"points": "two"},
    {"grade": "yes"},
    {"grade_id": 7},
    {"locked": None},
    {"schema_version": "3"},
    {"unexpected": 1},
]


def _outcome(meta: dict) -> str:
    nb = nbformat.v4.new_notebook(cells=[_cell(**meta)])
    try:
        MetadataValidator().validate_nb(copy.deepcopy(nb))
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    return "valid"


@pytest.fixture
def plain():
    """nbgrader's common module with the real jsonschema, restored afterwards."""
    saved = common.jsonschema
    common.jsonschema = jsonschema
    yield
    common.jsonschema = saved


@pytest.mark.parametrize("meta", [{}, *BROKEN], ids=lambda m: ",".join(m) or "valid")
def test_cached_validator_gives_nbgraders_verdict(plain, meta):
    expected = _outcome(meta)
    cache_metadata_schema()
    assert isinstance(common.jsonschema, _CachedJsonschema)
    assert _outcome(meta) == expected
    assert _outcome(meta) == expected  # and again, from the cached validator
    if meta:
        assert expected != "valid"  # the broken cases really are broken
