"""The `kns` Voilà template's guard against a page whose widgets never appear (voila#920).

The pages are the template's own helper script, cut out of the written macro, around a widget
output that no widget manager renders (the failure) or one already rendered (the normal case),
served over HTTP so that the browser keeps a session store.
"""

from __future__ import annotations

import http.server
import re
import threading
import time

import pytest

from kynangso import voila_template

WAIT_MS = 300  # instead of the template's minute: the same script with a shorter wait


def helper_script(tmp_path) -> str:
    folder = voila_template.write_template(tmp_path / "t", "Đang mở")
    setup = (folder / "voila_setup.macro.html.j2").read_text("utf-8")
    script = re.search(r"<script>\s*window\.voila_heartbeat.*?</script>", setup, re.S).group(0)
    script = re.sub(r"window\.voila_(process|finish) = \{\{.*?\}\};", "", script)  # Jinja's parts
    assert str(voila_template.WIDGETS_WAIT_MS) in script
    return script.replace(str(voila_template.WIDGETS_WAIT_MS), str(WAIT_MS))


VIEW = '<div><script type="application/vnd.jupyter.widget-view+json">{"model_id": "m1"}</script></div>'
PAGES = {
    "/blank": VIEW,  # what voila#920 leaves: the view's script, nothing rendered
    "/rendered": VIEW + '<div class="widget-vbox jupyter-widgets">Số cán bộ</div>',
    "/plain": "<p>Không có tiện ích</p>",  # a page without widgets
}


@pytest.fixture
def site(tmp_path):
    script = helper_script(tmp_path)
    loads: dict[str, int] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            loads[self.path] = loads.get(self.path, 0) + 1
            body = f"<!doctype html><html><head>{script}</head><body>{PAGES[self.path]}</body></html>"
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", loads
    server.shutdown()


def test_a_page_whose_widgets_never_appear_reloads_once(site, page):
    """Is a page with a widget output and no rendered widget reloaded, once only (the second
    load that also shows nothing stays, so a broken page cannot loop)?"""
    url, loads = site
    page.goto(url + "/blank")
    deadline = time.monotonic() + 60  # the reload comes 0.3 s after load; generous for busy CPUs
    while loads.get("/blank", 0) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert loads.get("/blank") == 2
    page.wait_for_timeout(10 * WAIT_MS)  # a second reload would have come by now
    assert loads["/blank"] == 2


@pytest.mark.parametrize("path", ["/rendered", "/plain"])
def test_a_rendered_page_or_a_page_without_widgets_is_left_alone(site, page, path):
    url, loads = site
    page.goto(url + path)
    page.wait_for_timeout(10 * WAIT_MS)
    assert loads[path] == 1
