"""Competency exams on the hub: exam windows, the exam desk service, and the learner side of
the nbgrader exchange.

Learners never touch the exchange folder. Their server's nbgrader Assignment List talks to the
exam desk (a hub service) through the exchange classes in `exchange.py`; the desk checks the
window and the learner's group, takes the submission time from its own clock and writes the
nbgrader exchange layout that the instructor's formgrader reads.
"""

SERVICE_NAME = "exams"
MANAGE_SCOPE = "custom:exams:manage"
LATE_POLICIES = ("refuse", "accept_zero")
