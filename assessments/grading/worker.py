"""What a worker process does with one submitted notebook.

It runs nbgrader's own converter code for the first part of `Autograde.convert_single_notebook`:
the sanitize pass (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
CheckCellMetadata, and in a strict course RemoveAddedCells (strict.py): the course's
`Autograde.sanitize_preprocessors`, written to the autograded folder exactly as nbgrader writes
it), then the
autograde preprocessors up to the first one that writes the gradebook (Execute with a pooled
kernel, IgnorePattern, ClearMetadataPreprocessor, LimitOutput). The notebook text goes back to
the parent, which runs the writing part (SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata) in one process, because SQLite must not have concurrent writers.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from assessments.grading.config import ensure_tools_on_path, load_course_config
from assessments.grading.gradebooks import close_gradebooks, share_gradebooks, snapshot_url

log = logging.getLogger(__name__)

_STATE: dict[str, Any] = {}


class _Collect(logging.Handler):
    """Keeps the warnings nbgrader's preprocessors log for the notebook being graded."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(record.getMessage())
        except Exception:  # a malformed log call must not fail the grading
            self.records.append(str(record.msg))


def split_preprocessors(classes: list) -> tuple[list, list]:
    """(run in the worker, run in the parent): split before the first gradebook writer."""
    from nbgrader.preprocessors import AssignLatePenalties, Execute, SaveAutoGrades
    from traitlets.utils.importstring import import_item

    from assessments.grading.kernels import PooledExecute

    resolved = [import_item(c) if isinstance(c, str) else c for c in classes]
    cut = next((i for i, c in enumerate(resolved)
                if issubclass(c, (SaveAutoGrades, AssignLatePenalties))), len(resolved))
    # Only nbgrader's own Execute is replaced; a course's custom subclass keeps its behaviour.
    worker = [PooledExecute if c is Execute else c for c in resolved[:cut]]
    return worker, resolved[cut:]


def cache_metadata_schema() -> None:
    """nbgrader's CheckCellMetadata checks every grade cell with `jsonschema.validate`, which
    checks the schema itself and builds a validator at each call (~0.1 s per notebook of our
    exams). Here the validator of each schema (nbgrader's own files) is built, and the schema
    checked, once per process; the instance is validated and its error chosen (best_match)
    exactly as `jsonschema.validate` does."""
    import json

    import jsonschema
    from nbgrader.nbgraderformat import common

    if isinstance(common.jsonschema, _CachedJsonschema):
        return
    common.jsonschema = _CachedJsonschema(jsonschema, json)


class _CachedJsonschema:
    """The `jsonschema` module as nbgrader.nbgraderformat.common sees it, with a cached validate."""

    def __init__(self, module, json) -> None:
        self._module = module
        self._json = json
        self._validators: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def validate(self, instance, schema, cls=None, *args, **kwargs) -> None:
        if cls is not None or args or kwargs:
            return self._module.validate(instance, schema, cls, *args, **kwargs)
        key = self._json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            cls = self._module.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[key] = cls(schema)
        error = self._module.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error
        return None


def make_converter(course_root: Path, assignment_id: str, student_glob: str,
                   overrides: dict | None = None):
    """nbgrader's Autograde converter for this course, ready to convert single notebooks."""
    from nbconvert.writers import FilesWriter
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    config = load_course_config(course_root, overrides)
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(course_root)
    coursedir.assignment_id = assignment_id
    coursedir.student_id = student_glob
    cache_metadata_schema()
    converter = Autograde(coursedir=coursedir, config=config)
    converter.log = logging.getLogger("kns.grading.nbgrader")
    converter.writer = FilesWriter(parent=converter, config=converter.config)
    converter.exporter = converter.exporter_class(parent=converter, config=converter.config)
    return converter


def kernel_arguments(config) -> list[str]:
    """The kernel command-line arguments nbclient would add for nbgrader's Execute."""
    from nbgrader.preprocessors import Execute

    template = Execute(config=config)
    args = list(template.extra_arguments)
    if template.ipython_hist_file and not any(a.startswith("--HistoryManager.hist_file") for a in args):
        args.append(f"--HistoryManager.hist_file={template.ipython_hist_file}")
    return args


def init_worker(course_root: str, assignment_id: str, overrides: dict, spares: int,
                kernel_names: list[str], fork_kernels: bool = True) -> None:
    """Process initializer: import nbgrader once, start the first kernels."""
    from multiprocessing.util import Finalize

    from nbgrader.preprocessors import Execute

    from assessments.grading import kernels, zygote

    ensure_tools_on_path()
    # nbgrader sets this around the autograde pass; kernels inherit it from this process.
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    os.chdir(course_root)  # nbgrader's converter runs in the course root
    converter = make_converter(Path(course_root), assignment_id, "*", overrides)
    share_gradebooks()
    # Reads only (see gradebooks.py); resources['nbgrader']['db_url'] comes from coursedir.
    real_url = converter.coursedir.db_url
    converter.coursedir.db_url = snapshot_url(real_url)
    if converter.coursedir.db_url != real_url:
        Finalize(None, shutil.rmtree, args=(os.path.dirname(converter.coursedir.db_url[len("sqlite:///"):]),),
                 kwargs={"ignore_errors": True}, exitpriority=0)
    worker_part, _ = split_preprocessors(converter.autograde_preprocessors)
    collector = _Collect()
    converter.log.addHandler(collector)
    converter.log.propagate = False
    from assessments.grading.strict import is_strict

    _STATE.update(converter=converter, worker_part=worker_part, collector=collector,
                  strict=is_strict(converter))
    Finalize(converter, close_gradebooks, exitpriority=1)
    manager = overrides.get("Execute", {}).get("kernel_manager_class")
    if manager:
        # Sandboxed kernels (sandbox.py) bind the notebook's own folder when they start, so
        # none can be started before the notebook is known: each starts in that folder when
        # the notebook is handed to this worker (grade_notebook), while it is sanitized.
        from traitlets.utils.importstring import import_item

        execute = Execute(config=converter.config)
        pool = kernels.KernelPool(spares=0, extra_arguments=kernel_arguments(converter.config),
                                  startup_timeout=execute.startup_timeout,
                                  manager_class=import_item(manager), config=converter.config,
                                  in_place=True)
        kernels.POOL = pool
        # The name the notebook's kernel will have, if it is known before sanitizing.
        ahead = execute.kernel_name or (kernel_names[0] if len(kernel_names) == 1 else None)
        _STATE.update(pool=pool, ahead_kernel=ahead)
        Finalize(pool, pool.close, exitpriority=10)
        if fork_kernels and any(pool.poolable(name) for name in kernel_names):
            start_sandbox_zygote(converter, assignment_id)
        return
    pool = kernels.KernelPool(spares=spares, extra_arguments=kernel_arguments(converter.config),
                              startup_timeout=Execute(config=converter.config).startup_timeout)
    kernels.POOL = pool
    if fork_kernels and any(pool.poolable(name) for name in kernel_names):
        source = Path(converter.coursedir.format_path(converter.coursedir.source_directory, ".",
                                                      assignment_id))
        zygote.ZYGOTE = zygote.Zygote(preload=zygote.course_imports(source))
        Finalize(zygote.ZYGOTE, zygote.ZYGOTE.close, exitpriority=5)  # after the pool (10)
    for name in kernel_names:
        pool.prefill(name)
    _STATE.update(pool=pool)
    Finalize(pool, pool.close, exitpriority=10)


def start_sandbox_zygote(converter, assignment_id: str) -> None:
    """A kernel zygote inside the sandbox (zygote.SANDBOX_LOOP): it sees every autograded
    folder of the course and forks each kernel confined to its own. Without one (it cannot
    confine kernels, e.g. when bwrap runs as root), each kernel is a cold sandbox of its own."""
    import tempfile
    from multiprocessing.util import Finalize

    from assessments.grading import zygote

    coursedir = converter.coursedir
    autograded = os.path.realpath(os.path.join(coursedir.root, coursedir.autograded_directory))
    os.makedirs(autograded, exist_ok=True)  # as nbgrader's init_destination would
    private_root = tempfile.mkdtemp(prefix="kns-kernels-")
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment_id))
    spec = zygote.SandboxSpec(writable=[private_root, autograded], private_root=private_root,
                              fresh=["/tmp", "/dev/shm"])
    zyg = None
    try:
        zyg = zygote.Zygote(preload=zygote.course_imports(source), sandbox=spec)
        answer = zyg.probe()
    except Exception as exc:  # noqa: BLE001 - cold sandboxes are always correct
        answer = f"{type(exc).__name__}: {exc}"
    if answer != "ok":
        log.warning("kernels start cold, each in a sandbox of its own: the sandboxed zygote "
                    "cannot confine kernels (%s)", answer)
        if zyg is not None:
            zyg.close()
        shutil.rmtree(private_root, ignore_errors=True)
        return
    zygote.SANDBOX_ZYGOTE = zyg
    Finalize(zyg, zyg.close, exitpriority=5)  # after the pool (10)
    Finalize(None, shutil.rmtree, args=(private_root,), kwargs={"ignore_errors": True}, exitpriority=4)


def grade_notebook(student_id: str, assignment_id: str, submitted: str) -> dict[str, Any]:
    """Sanitize and execute one submitted notebook; never raises (the batch must go on)."""
    from nbgrader.converters.base import BaseConverter
    from nbgrader.preprocessors.execute import UnresponsiveKernelError

    converter = _STATE["converter"]
    collector: _Collect = _STATE["collector"]
    collector.records = []
    result: dict[str, Any] = {"ok": False, "warnings": collector.records}
    started = time.perf_counter()
    try:
        pool = _STATE.get("pool")
        if pool is not None and pool.in_place and _STATE.get("ahead_kernel"):
            # Boots while the notebook is sanitized; it runs in nbgrader's autograded folder.
            pool.start_ahead(_STATE["ahead_kernel"], converter._format_dest(assignment_id, student_id))
        converter._sanitizing = True
        converter._init_preprocessors()
        BaseConverter.convert_single_notebook(converter, submitted)
        sanitized = os.path.join(converter.writer.build_directory, os.path.basename(submitted))
        result["grade_ids"] = _grade_ids(sanitized)
        if _STATE.get("strict"):
            from assessments.grading.strict import flag_name, read_flag

            # Written by RemoveAddedCells through nbgrader's writer, beside the sanitized notebook.
            result["strict"] = read_flag(os.path.join(
                converter.writer.build_directory,
                flag_name(os.path.splitext(os.path.basename(submitted))[0])))
        try:
            result["edited"] = _really_edited(converter, submitted, assignment_id, collector.records)
        except Exception as exc:  # only a flag for people: never a reason not to grade
            log.warning("cannot tell edited cells in %s: %s", submitted, exc)
        result["sanitized_s"] = time.perf_counter() - started

        converter._sanitizing = False
        converter.exporter._preprocessors = []
        for pp in _STATE["worker_part"]:
            converter.exporter.register_preprocessor(pp)
        resources = converter.init_single_notebook_resources(sanitized)
        output, resources = converter.exporter.from_filename(sanitized, resources=resources)
        result.update(ok=True, output=output, resources=_plain(resources),
                      worker_s=time.perf_counter() - started, pid=os.getpid())
    except UnresponsiveKernelError as exc:
        result.update(error="unresponsive", detail=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc())
    except Exception as exc:
        result.update(error=classify(exc), detail=f"{type(exc).__name__}: {exc}"[:2000],
                      traceback=traceback.format_exc())
    finally:
        converter._sanitizing = True
    return result


def classify(exc: BaseException) -> str:
    """A short reason code for the summary."""
    from nbclient.exceptions import DeadKernelError
    from nbformat.reader import NotJSONError
    from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError
    from nbgrader.nbgraderformat import ValidationError as NbgValidationError

    if isinstance(exc, NotJSONError | UnicodeDecodeError):
        return "corrupt"
    if isinstance(exc, SchemaTooOldError | SchemaTooNewError):
        return "schema"
    if isinstance(exc, NbgValidationError) or "Inconsistent checksums" in str(exc):
        return "metadata"
    if isinstance(exc, DeadKernelError | TimeoutError):
        return "kernel"
    if type(exc).__name__ in ("ValidationError", "NBFormatError") or isinstance(exc, KeyError | TypeError):
        return "corrupt"
    return "other"


def _really_edited(converter, submitted: str, assignment_id: str, records: list[str]) -> list[str]:
    """Locked cells the learner changed, among those nbgrader restored ("checksum has changed").

    nbgrader also restores every cell with hidden tests (the learner's copy never had them), so
    its warning alone is no sign of cheating: compare with the cell as released instead.
    """
    import re

    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import ClearHiddenTests

    restored = [m.group(1) for m in (re.search(r"Attribute 'checksum' for cell (\S+) has changed", r)
                                     for r in records) if m]
    if not restored:
        return []
    notebook_id = os.path.splitext(os.path.basename(submitted))[0]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
             for c in nbformat.read(submitted, as_version=4).cells}
    clear = ClearHiddenTests(config=converter.config)
    edited = []
    with Gradebook(converter.coursedir.db_url) as gb:
        for grade_id in restored:
            source = gb.find_source_cell(grade_id, notebook_id, assignment_id)
            released = nbformat.v4.new_code_cell(source.source)
            released.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                             "grade_id": grade_id, "points": 0}
            released, _ = clear.preprocess_cell(released, {}, 0)
            mine = cells.get(grade_id)
            if mine is None or mine.source.strip() != released.source.strip():
                edited.append(grade_id)
    return edited


def _grade_ids(path: str) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    ids = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            ids.append(meta["grade_id"])
    return ids


def _plain(value: Any) -> Any:
    """ResourcesDict and friends as plain containers, to cross the process boundary."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
