"""The message catalogue: NFC text, valid templates, and every key the code uses exists.

This test guards every area: it reads the source tree for message keys passed as
literals to `t(...)` and to error classes (`KnsError`, `ValidationError`, any `...Error`).
"""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from pathlib import Path

import pytest

from kynangso.i18n import catalogue, t

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "kynangso" / "locale"
SOURCE_DIRS = ("kynangso", "sandbox", "assessments", "reports", "hub_config", "courses", "benchmarks")
KEY_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def catalogue_files() -> list[Path]:
    return sorted(LOCALE.glob("*/*.yaml"))


def used_keys() -> list[tuple[str, int, str]]:
    """(file, line, key) for each literal key passed to t() or an ...Error() in the source tree."""
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name != "t" and not name.endswith("Error"):
                    continue
                args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "key"]
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        if KEY_RE.fullmatch(arg.value):
                            found.append((str(path.relative_to(ROOT)), node.lineno, arg.value))
    return found


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_catalogue_file_is_nfc(path):
    """Is every catalogue file stored in NFC, so what we grep for is what people see?"""
    text = path.read_text(encoding="utf-8")
    bad = [n for n, line in enumerate(text.splitlines(), 1) if not unicodedata.is_normalized("NFC", line)]
    assert not bad, f"{path.name}: lines not in NFC: {bad}"


def test_every_value_is_a_nfc_format_template():
    """Is every message NFC text and a valid str.format template?"""
    for key, text in catalogue().items():
        assert isinstance(text, str) and text.strip(), key
        assert unicodedata.is_normalized("NFC", text), key
        list(string.Formatter().parse(text))  # raises ValueError on a broken template


def test_no_yaml_boolean_keys():
    """Is no catalogue key silently turned into a boolean or null by YAML (yes:, no:, on:, ~:)?"""
    import yaml

    def names(data, prefix=""):
        for key, value in data.items():
            assert not isinstance(key, bool) and key is not None, (
                f"{prefix}{key!r} was read as a boolean/null: quote the key in YAML"
            )
            if isinstance(value, dict):
                names(value, f"{prefix}{key}.")

    for path in catalogue_files():
        names(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, f"{path.name}: ")


def test_every_key_used_in_the_source_exists():
    """Does every message key used in the code exist in the Vietnamese catalogue?"""
    keys = catalogue()
    used = used_keys()
    assert any(k == "core.settings_invalid" for _, _, k in used)  # the scan does find keys
    missing = [f"{f}:{line}: {k}" for f, line, k in used if k not in keys]
    assert not missing, "keys missing from kynangso/locale/vi/*.yaml:\n" + "\n".join(missing)


def test_missing_key_raises():
    """Does an unknown key raise rather than show an English fallback?"""
    with pytest.raises(KeyError):
        t("core.no_such_message")


def test_parameters_are_filled_in():
    """Are parameters substituted into the message?"""
    assert "hr.csv" in t("staff.file_no_rows", source="hr.csv")
