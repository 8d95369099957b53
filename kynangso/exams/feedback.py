"""What learners' feedback may show: their answers and scores, never a hidden test.

nbgrader's feedback is the autograded notebook as HTML, hidden tests and tracebacks included
(nbgrader issues #917, #1363). The exam course's nbgrader_config adds nbgrader's own
ClearHiddenTests and this preprocessor to GenerateFeedback: in autograder test cells only the
score stays; an error becomes one Vietnamese line (a traceback would quote the answer key).
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output

from kynangso.i18n import t


class HideTestDetails(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            failed = any(o.output_type == "error" for o in cell.outputs)
            kept = [o for o in cell.outputs if o.output_type == "execute_result"]
            if failed:
                kept.append(new_output("stream", name="stdout", text=t("exams.feedback_failed") + "\n"))
            cell.outputs = kept
        return cell, resources
