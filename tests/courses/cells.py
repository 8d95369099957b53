"""Run a lesson notebook's code cells in this process, as the kernel would."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat


def run_cells(path: Path) -> list:
    """Run the notebook's code cells here, as the kernel would, and return each cell's value."""
    values = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        *body, last = tree.body
        scope: dict = {}
        exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), scope)
        values.append(eval(compile(ast.Expression(last.value), str(path), "eval"), scope))
    return values
