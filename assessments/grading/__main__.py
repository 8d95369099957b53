"""`python -m assessments.grading EXAM ...`: the same as `kns grade` (handy before installation)."""

from assessments.grading.cli import grade

if __name__ == "__main__":
    grade(prog_name="kns grade")
