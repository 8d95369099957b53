"""Question widgets for exams: every answer saved at once to a sidecar beside the notebook."""

from assessments.questions.base import Question
from assessments.questions.choice import MultipleChoice, SingleChoice
from assessments.questions.exam import Exam
from assessments.questions.identity import learner_id, rng_for
from assessments.questions.numeric import Number, format_number, parse_number
from assessments.questions.ordering import Ordering
from assessments.questions.sidecar import Sidecar, SidecarError
from assessments.questions.text import ShortText, normalise_text
from assessments.questions.written import Written

__all__ = ["Exam", "MultipleChoice", "Number", "Ordering", "Question", "ShortText", "Sidecar",
           "SidecarError", "SingleChoice", "Written", "format_number", "learner_id",
           "normalise_text", "parse_number", "rng_for"]
