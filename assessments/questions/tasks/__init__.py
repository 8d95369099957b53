"""Simulation tasks for exams: one module per sandbox, each task a Question whose variant is
drawn from the learner's seed and whose answer is judged by the sandbox's own rule code.

`Exam` gets one method per task (installed by `install`, called at the end of exam.py):

    bai.task_register_incoming("dang-ky-den")      # documents: register a paper document
    bai.task_read_symbol("so-ky-hieu")             # documents: is this số, ký hiệu right?
    bai.task_handling_deadline("han-xu-ly")        # documents: deadline in working days
    bai.task_find_invalid_signature("kiem-tra-ky") # signing: which documents are not valid?
    bai.task_sign_file("ky-van-ban")               # signing: sign the generated document
    bai.task_dossier_due("hen-tra")                # filing: appointment date of a dossier
    bai.task_process_dossier("tiep-nhan")          # filing: receive / supplement / refuse
    bai.task_judge_phishing("lua-dao")             # mail: safe or phishing, and which sign

Hidden tests score them with `assessments.questions.grading.score_item(exam, item, Class,
points)`; `TASKS` maps each method name to its class. Modules are imported when a task is
built, so an exam without signing tasks never loads pyHanko.
"""

from __future__ import annotations

from importlib import import_module

TASKS = {
    "task_register_incoming": ("documents", "RegisterIncoming"),
    "task_read_symbol": ("documents", "ReadSymbol"),
    "task_handling_deadline": ("documents", "HandlingDeadline"),
    "task_find_invalid_signature": ("signing", "FindInvalidSignature"),
    "task_sign_file": ("signing", "SignFile"),
    "task_dossier_due": ("filing", "DossierDue"),
    "task_process_dossier": ("filing", "ProcessDossier"),
    "task_judge_phishing": ("mail", "JudgePhishing"),
}


def task_class(method: str):
    """The Question class behind an Exam task method, e.g. task_class("task_sign_file")."""
    module, name = TASKS[method]
    return getattr(import_module(f"assessments.questions.tasks.{module}"), name)


def _method(name: str):
    def build(self, item_id: str, title: str = "", **spec):
        return self.show(task_class(name)(self, item_id, title=title, **spec))

    build.__name__ = name
    build.__doc__ = f"Build and show the {TASKS[name][1]} task (assessments.questions.tasks)."
    return build


def install(exam_class) -> None:
    """Give `exam_class` one method per task (only names it does not define already)."""
    for name in TASKS:
        if not hasattr(exam_class, name):
            setattr(exam_class, name, _method(name))


__all__ = ["TASKS", "install", "task_class"]
