"""What a dashboard kernel started cold does (issue 15): the same data and page, less work.

- the platform tables are read through plain table clauses, not the ORM models, so a dashboard
  kernel does not import SQLAlchemy's ORM (and the clauses name the models' columns);
- the trend table is computed in one pass and equals the per-period computation;
- Voilà starts the dashboards' own kernel (reports.kernel), which has no debugger.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from reports import data as data_module
from reports import views

ROOT = Path(__file__).resolve().parents[2]


def test_table_clauses_name_the_models_columns():
    from kynangso.exams import flags
    from kynangso.models import Base

    for clause in (data_module.DEPARTMENTS, data_module.STAFF, data_module.PROGRESS_EVENTS,
                   flags.TABLE):
        model = Base.metadata.tables[clause.name]
        for col in clause.c:
            assert col.name in model.c, f"{clause.name}.{col.name}"
            assert type(col.type) is type(model.c[col.name].type), f"{clause.name}.{col.name}"
            if hasattr(col.type, "timezone"):
                assert col.type.timezone == model.c[col.name].type.timezone


def test_flags_read_as_the_flags_module_reads_them(office):
    from kynangso.exams import flags

    platform, _sources = office
    rows = [(f["username"], f["exam"], f["kind"]) for f in flags.of(platform)]
    assert rows, "the test office has flags"
    expected = pd.DataFrame(rows, columns=["username", "assignment", "kind"]).drop_duplicates()
    assert_frame_equal(data_module.read_flags(platform), expected)


def test_dashboard_kernel_does_not_import_the_orm(tmp_path):
    """The overview built in a new process from the summary (as the grading worker leaves it)
    leaves sqlalchemy.orm unimported."""
    from reports import summary
    from tests.reports.conftest import build_office

    platform, sources = build_office(tmp_path)
    assert summary.refresh(platform, sources)
    code = (
        "import pickle, sys\n"
        "from reports.data import load\n"
        "from reports.dashboard import overview\n"
        "platform, sources = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
        "overview(load(platform, sources), 'x')\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.orm'))[:3])\n")
    import pickle

    out = subprocess.run([sys.executable, "-c", code, pickle.dumps((platform, sources)).hex()],
                         capture_output=True, text=True, check=True, cwd=str(tmp_path),
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def per_period_trend(data, usernames):
    """The trend as it was computed before: a mask per period."""
    hist = data.history[data.history["username"].isin(usernames)]
    rows = []
    for p in data.periods.itertuples():
        ph = hist[hist["period_id"] == p.period_id]
        people = ph["username"].nunique()
        rows.append({
            views.h("period"): p.label,
            views.h("people_assessed"): people,
            views.h("mean_level"): round(float(ph["rank"].mean()), 2) if people else None,
            views.h("share_basic"): round(100 * float((ph["rank"] >= 1).mean()), 1) if people else None,
        })
    return pd.DataFrame(rows, columns=[views.h("period"), views.h("people_assessed"),
                                       views.h("mean_level"), views.h("share_basic")])


def test_trend_equals_the_per_period_computation(data):
    everyone = set(data.staff["username"])
    some = set(sorted(everyone)[: max(1, len(everyone) // 2)])
    for users in (everyone, some, {data.staff["username"].iloc[0]}, set(), {"nobody"}):
        assert_frame_equal(views.trend(data, users), per_period_trend(data, users))
    empty = data_module.ReportData(
        data.staff, data.periods, data.items, data.results,
        data.history.iloc[0:0], data.exams, data.lessons, data.courses, data.framework,
        data.requirements)
    assert_frame_equal(views.trend(empty, everyone), per_period_trend(empty, everyone))


def test_voila_finds_the_dashboards_kernel(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    from reports.voila_template import write_template

    write_template(tmp_path, "/opt/venv/bin/python")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[:3] == ["/opt/venv/bin/python", "-m", "reports.kernel"]
    assert json.loads((tmp_path / "kernels" / "python3" / "kernel.json").read_text())["language"] == "python"


def test_dashboards_kernel_runs_code_without_a_debugger(tmp_path):
    from jupyter_client.manager import AsyncKernelManager

    from reports.kernel import write_kernel_spec

    spec_dir = write_kernel_spec(tmp_path)

    async def run():
        km = AsyncKernelManager(kernel_name="python3")
        km._kernel_spec = km.kernel_spec_manager.kernel_spec_class.from_resource_dir(str(spec_dir))
        await km.start_kernel(cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": str(ROOT)})
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            kc.kernel_info()
            while True:
                reply = await kc.get_shell_msg(timeout=30)
                if reply["msg_type"] == "kernel_info_reply":
                    break
            result = await kc.execute_interactive("import sys; print(6 * 7, sys.modules['debugpy'])",
                                                  timeout=30,
                                                  output_hook=outputs.append)
            return reply["content"], result["content"]["status"]
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    outputs: list = []
    info, status = asyncio.run(run())
    assert info["status"] == "ok"
    assert "debugger" not in info.get("supported_features", []) and not info.get("debugger")
    assert status == "ok"
    assert any(m["msg_type"] == "stream" and m["content"]["text"].strip() == "42 None"
               for m in outputs)


@pytest.mark.parametrize("lang_call", [(), ("vi",)])
def test_catalogue_is_read_once(lang_call):
    from kynangso import i18n

    assert i18n.catalogue(*lang_call) is i18n.catalogue("vi") is i18n.catalogue()
