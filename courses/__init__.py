"""Self-paced courses in Vietnamese: lesson notebooks, their catalogue, and the exercise widgets.

Notebooks live in `<NN-slug>/<lesson>.ipynb` (package data); their hidden one-line code cells
call the modules here: `lesson.start(...)` (progress, "Nghe bài", "Làm lại bài") and the
exercise functions of `c00`–`c04`, which build tasks from the sandboxes' own rules.
"""
