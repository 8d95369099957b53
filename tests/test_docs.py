"""Docs that are tested: every setting and every `kns` command is documented."""

import json
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]


def _setting_paths(schema: dict, prefix: str = ""):
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if sub.get("type") == "object" and sub.get("properties"):
            if path in ("auth.ldap", "auth.oidc"):  # passed through to the authenticator, documented by example
                yield path
                continue
            yield from _setting_paths(sub, path + ".")
        else:
            yield path


def test_every_setting_is_documented():
    """Does docs/settings.md mention every key of the settings schema?"""
    schema = json.loads((ROOT / "kynangso" / "settings_schema.json").read_text())
    doc = (ROOT / "docs" / "settings.md").read_text()
    missing = [p for p in _setting_paths(schema) if f"`{p}" not in doc]
    assert not missing, f"undocumented settings: {missing}"


def _commands(group: click.Group, prefix: str):
    for name in group.list_commands(click.Context(group)):
        cmd = group.get_command(click.Context(group), name)
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, full)
        else:
            yield full


def test_every_kns_command_is_documented():
    """Does docs/operations.md mention every `kns` command, including each area's?"""
    from kynangso.cli import kns

    doc = (ROOT / "docs" / "operations.md").read_text()
    missing = [c for c in _commands(kns, "kns") if f"`{c}" not in doc]
    assert not missing, f"undocumented commands: {missing}"
