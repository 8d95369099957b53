"""The competence tag of an exam item (cell metadata, key "kynangso"), checked against the
versioned JSON Schema (item_metadata.schema.json) and the framework.

Example, in a graded cell's metadata next to nbgrader's own key:

    {"nbgrader": {"grade": true, "grade_id": "so-ky-hieu-1", "points": 2, ...},
     "kynangso": {"schema_version": 1, "item_id": "so-ky-hieu-1", "competence": "VB.1",
                  "level": "co_ban", "points": 2, "simulation": "documents"}}
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from assessments.competency.framework import Framework, load_framework
from kynangso.i18n import t

METADATA_KEY = "kynangso"


@cache
def item_schema() -> dict:
    text = (resources.files("assessments.competency") / "item_metadata.schema.json").read_text(
        encoding="utf-8")
    return json.loads(text)


ITEM_SCHEMA_VERSION: int = item_schema()["version"]


def validate_item_metadata(meta: Any, framework: Framework | None = None) -> list[str]:
    """Every problem of one item's metadata, in Vietnamese; empty when it is valid.

    `meta` is the value under the "kynangso" key of the cell metadata.
    """
    if not isinstance(meta, dict):
        return [t("competency.item.not_mapping")]
    version = meta.get("schema_version")
    if version is not None and version != ITEM_SCHEMA_VERSION:
        return [t("competency.item.version", got=version, expected=ITEM_SCHEMA_VERSION)]
    problems: list[str] = []
    validator = jsonschema.Draft202012Validator(item_schema())
    for err in sorted(validator.iter_errors(meta), key=lambda e: list(e.absolute_path)):
        field = "/".join(str(p) for p in err.absolute_path) or "kynangso"
        if field == "level":
            problems.append(t("competency.item.level", value=meta.get("level")))
        else:
            problems.append(t("competency.item.schema", where=field, detail=err.message))
    fw = framework or load_framework()
    comp = meta.get("competence")
    if isinstance(comp, str) and comp not in fw.competences:
        problems.append(t("competency.item.competence", value=comp))
    return problems


def check_exam_notebook(nb: dict, framework: Framework | None = None) -> list[str]:
    """Every problem of the competence tags of one exam notebook (as parsed JSON), in Vietnamese.

    Each graded cell (nbgrader `grade` or `task`) must carry a valid tag whose `points` equal
    nbgrader's points and whose `item_id` is unique in the notebook; a tag on a cell that is not
    graded is reported too (it would count evidence nobody graded).
    """
    fw = framework or load_framework()
    problems: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.get("cells", []), start=1):
        meta = cell.get("metadata", {})
        grader = meta.get("nbgrader") or {}
        graded = bool(grader.get("grade") or grader.get("task"))
        tag = meta.get(METADATA_KEY)
        where = t("competency.item.where", n=index, id=grader.get("grade_id") or "?")
        if not graded:
            if tag is not None:
                problems.append(f"{where}: {t('competency.item.not_graded')}")
            continue
        if tag is None:
            problems.append(f"{where}: {t('competency.item.missing')}")
            continue
        problems += [f"{where}: {p}" for p in validate_item_metadata(tag, fw)]
        if isinstance(tag, dict):
            if tag.get("points") != grader.get("points"):
                problems.append(f"{where}: " + t("competency.item.points", tag=tag.get("points"),
                                                 nbgrader=grader.get("points")))
            item_id = tag.get("item_id")
            if item_id in seen:
                problems.append(f"{where}: " + t("competency.item.duplicate", id=item_id))
            seen.add(item_id)
    return problems
