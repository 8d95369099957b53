"""The dashboards' kernel: ipykernel without its debugger.

Voilà starts one of these for every dashboard page it renders without a preheated kernel
(the first pages after the service starts, or when its pool is empty), and the page waits for
it. ipykernel loads the debugger (debugpy and pydevd) at every start, about a third of its own
start-up (0.07 s of CPU of 0.26 s on the 2-core machine), for a feature no dashboard page uses:
the reports service never forwards a `debug_request` from a browser (service.ALLOWED_FROM_BROWSER).
Without debugpy importable, ipykernel starts without it and says so in its kernel_info reply
(`debugger: false`).

Voilà finds it as the `python3` kernel of the service's private JUPYTER_PATH folder
(`write_kernel_spec`, called by reports.voila_template.write_template), ahead of the
environment's own spec; the notebooks keep naming `python3`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KERNEL_NAME = "python3"  # what the dashboard notebooks name (their kernelspec metadata)


def write_kernel_spec(root: Path, python: str = sys.executable) -> Path:
    """Write the `python3` kernel spec under `root` (a JUPYTER_PATH entry); returns its folder."""
    folder = Path(root) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "reports.kernel", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
        "metadata": {"debugger": False},
    }, indent=1), encoding="utf-8")
    return folder


def main() -> None:
    sys.modules["debugpy"] = None  # `import debugpy` raises ImportError: no debugger
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
