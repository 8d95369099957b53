"""The competency framework (areas, competences, levels), the rule that turns evidence into a
level, and the schema of the competence tag every exam item carries."""

from assessments.competency.framework import Framework, load_framework
from assessments.competency.items import (
    ITEM_SCHEMA_VERSION,
    check_exam_notebook,
    item_schema,
    validate_item_metadata,
)
from assessments.competency.levels import Evidence, competence_level, levels_for

__all__ = [
    "ITEM_SCHEMA_VERSION",
    "Evidence",
    "Framework",
    "check_exam_notebook",
    "competence_level",
    "item_schema",
    "levels_for",
    "load_framework",
    "validate_item_metadata",
]
