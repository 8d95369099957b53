"""Voilà's `kns` template: Voilà 0.5's `lab` template with a Vietnamese loading screen.

Used by the HR dashboards (reports.voila_template) and by the lessons and exams that learners
open as apps on their own servers (kynangso.learner).

Voilà 0.5.13 writes its loading text in two places, both in English: the spinner macro
(`Running {{nb_title}}...`, base/spinner.macro.html.j2) and the script that updates it while
the cells run (`Executing ${cell_index} of ${cell_count}`, base/voila_setup.macro.html.j2).
Neither is a configuration option. A template named `kns` whose `conf.json` says
`base_template: lab` and which carries its own copy of those two macro files wins over the
upstream files (Voilà searches the template's own folder first), and everything else comes
from `lab`.

The text comes from the message catalogue, so the files are written when the process starts,
into a private folder put on Voilà's JUPYTER_PATH. The inline scripts change, and a proxy's
Content-Security-Policy hashes whatever inline scripts the page has (kynangso.hub.csp), so no
hash is kept here.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

TEMPLATE = "kns"
# The loading screen's opening tag, one piece of the streamed page (the learner app's exam bar
# goes before it: kynangso.learner.exam).
LOADING_MARKER = '<div id="loading"'


SPINNER = """{% macro css() %}
  <style>
    #loading {
      display: flex; flex-direction: column; align-items: center; justify-content: center;
      height: 75vh; color: #1F4E79; font-family: 'DejaVu Sans', system-ui, sans-serif;
      z-index: 100; position: relative;
    }
    #loading .kns-spinner {
      width: 48px; height: 48px; border: 5px solid #d0d7de; border-top-color: #1F4E79;
      border-radius: 50%; animation: kns-rotation 1s infinite linear;
    }
    #loading_text { font-size: 18px; font-weight: normal; margin-top: 18px; }
    @keyframes kns-rotation { from {transform: rotate(0deg);} to {transform: rotate(359deg);} }
  </style>
{% endmacro %}

{% macro html() %}
  @LOADING_MARKER@ style="display: flex;" role="status" aria-live="polite">
    <div class="kns-spinner"></div>
    <h2 id="loading_text">@LOADING@</h2>
  </div>
{% endmacro %}
"""

# Upstream's macros (Voilà 0.5.13) with the progress text left as it is: "cell 2 of 2" means
# nothing to HR, the sentence above says what is happening.
SETUP = """{%- macro voila_setup_labextensions(base_url, labextensions) -%}
@MAIN_SCRIPT@
{%- endmacro %}

{%- macro voila_setup(base_url, nbextensions) -%}
{{ voila_setup_labextensions(base_url, labextensions) }}
{%- endmacro %}

{%- macro voila_setup_helper_functions() -%}
<script>
  window.voila_heartbeat = function() {};
  window.update_loading_text = function(cell_index, cell_count, text) {
    const spinner = document.getElementById("loading");
    if (spinner && spinner.style.display === "none") {
      spinner.style.display = "flex";
    }
  };
  window.display_cells = function() {
    if (!window.themeLoaded) {
      window.cellLoaded = true;
      return;
    }
    var el = document.getElementById("loading");
    if (el) {
      el.parentNode.removeChild(el);
    }
    el = document.getElementById("rendered_cells");
    if (el) {
      el.style.display = '';
    }
  };
  window.voila_process = {{ voila_process | default("window.update_loading_text") }};
  window.voila_finish = {{ voila_finish | default("window.display_cells") }};
</script>
{%- endmacro %}
"""


UPSTREAM_MAIN = """<script src="{{ page_config['fullStaticUrl'] | e }}/{{ main_js }}"></script>"""
# Voilà's static files (voila.js and its ~60 webpack chunks, named "1187.voila.js", not by their
# content) from a versioned copy of /voila/static that may be cached for good: voila.js takes
# the chunks' folder from the page's config (fullStaticUrl), so that is pointed there first.
VERSIONED_MAIN = """<script>
  (function () {
    var el = document.getElementById("jupyter-config-data");
    if (!el) { return; }
    var config = JSON.parse(el.textContent);
    config.fullStaticUrl = {{ (base_url ~ '@STATIC@') | tojson }};
    el.textContent = JSON.stringify(config);
  })();
</script>
<script src="{{ (base_url ~ '@STATIC@') | e }}/{{ main_js }}"></script>"""


def write_template(root: Path, loading: str, static: str | None = None) -> Path:
    """Write the `kns` template under `root` (a JUPYTER_PATH entry), with `loading` (plain
    text) as the loading screen's sentence; returns its folder. `static`: where Voilà's static
    files are served from, relative to the server's base URL, when a server offers a
    versioned copy (kynangso.learner); else Voilà's own /voila/static."""
    folder = Path(root) / "voila" / "templates" / TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
    (folder / "spinner.macro.html.j2").write_text(SPINNER.replace("@LOADING@", html.escape(loading)).replace("@LOADING_MARKER@", LOADING_MARKER),
                                                  encoding="utf-8")
    main = VERSIONED_MAIN.replace("@STATIC@", static.strip("/")) if static else UPSTREAM_MAIN
    (folder / "voila_setup.macro.html.j2").write_text(SETUP.replace("@MAIN_SCRIPT@", main), encoding="utf-8")
    return folder
