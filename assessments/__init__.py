"""Exams, question widgets, the competency framework and the grading engine."""
