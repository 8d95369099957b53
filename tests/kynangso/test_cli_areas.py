"""`kns` loads the command group of the area it is asked for, and lists every area in --help."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

PROBE = """
import json, sys
from click.testing import CliRunner
from kynangso.cli import kns
result = CliRunner().invoke(kns, {args!r})
assert result.exit_code == 0, result.output
print(result.output)
print(json.dumps(sorted(m for m in sys.modules if m.endswith(".cli") and m != "kynangso.cli")))
"""


def run(args: list[str]) -> tuple[str, list[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    *text, modules = out.rstrip("\n").split("\n")
    return "\n".join(text), json.loads(modules)


def test_a_command_imports_only_its_own_area():
    """Importing every area (nbgrader's server extension, pandas, the ORM) cost each `kns`
    call over a second of CPU, `kns grade` run by the grading worker included."""
    _text, modules = run(["grade", "--help"])
    assert modules == ["assessments.grading.cli"]


def test_help_lists_every_area():
    text, _modules = run(["--help"])
    for ep in entry_points(group="kynangso.cli"):
        assert f"  {ep.name} " in text, ep.name
