"""The grading engine: `kns grade EXAM` grades every submission as `nbgrader autograde` would.

engine.py orchestrates (gradebook writes in one process), worker.py sanitizes and executes
notebooks in parallel worker processes, kernels.py keeps single-use kernels started ahead of
need, cli.py is the command, compare.py reads a gradebook into a comparable picture.
"""
