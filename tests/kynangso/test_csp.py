"""The page policy: the template's inline scripts by hash, never the learner's (no hub needed)."""

from __future__ import annotations

import base64
import hashlib

from kynangso.hub.csp import policy_for


def _h(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


PAGE = (b"<html><head><script>var submission_id = 's';</script>"
        b"<script src='/static/a.js'></script></head><body>"
        b"<span onclick=\"toggle_name(true);\"></span>"
        b'<div id="notebook-container"><script>steal()</script>'
        b"<img src=x onerror=\"steal()\"></div></body></html>")


def test_only_scripts_before_the_learner_part_are_allowed():
    policy = policy_for(PAGE, learner_content=True)
    script_src = policy.split("script-src", 1)[1].split(";", 1)[0]
    assert _h("var submission_id = 's';") in script_src
    assert _h("toggle_name(true);") in script_src and "'unsafe-hashes'" in script_src
    assert _h("steal()") not in script_src
    assert "'unsafe-inline'" not in script_src
    assert "object-src 'none'" in policy and "base-uri 'self'" in policy


def test_a_page_without_learner_part_allows_its_own_scripts():
    assert _h("steal()") in policy_for(PAGE, learner_content=False)


def test_a_streamed_page_gets_no_inline_script():
    policy = policy_for(b"", learner_content=True)
    assert "sha256" not in policy and "'unsafe-hashes'" not in policy
