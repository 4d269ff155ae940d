"""The files of asv's site besides the graphs: the template, the summary list,
``index.json`` and ``info.json`` (see :mod:`perfwatch.adapters.asv_site`)."""

from __future__ import annotations

import datetime
import itertools
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from perfwatch.adapters.asv_paths import graph_file_path
from perfwatch.adapters.asv_site_cache import OutputManifest

__all__ = [
    "LOCALISED_MARK",
    "asv_version",
    "copy_template",
    "dump",
    "graph_summary_rows",
    "index_document",
    "info_text",
    "summary_list",
    "summary_row",
]


def dump(data: Any) -> str:
    return json.dumps(data)  # asv's util.write_json(compact=True)


def _template_files(template: Path) -> list[Path]:
    """The files of asv's template that ``asv publish`` copies (relative paths)."""
    out = []
    for pre, _dirs, files in os.walk(template):
        vendor = os.path.basename(pre).lower() == "vendor"
        out += [Path(pre, n).relative_to(template) for n in files
                if not vendor or n.lower().endswith((".js", ".css"))]
    return out


def _template_in_place(template: Path, html_dir: Path, manifest: OutputManifest,
                       stamp: str) -> bool:
    """True when html_dir holds this asv version's template, localised (asv publish run by
    hand in between deletes html_dir and writes an index.html that loads from CDNs)."""
    index = html_dir / "index.html"
    if manifest.extra.get("template") != stamp or not index.is_file():
        return False
    if LOCALISED_MARK not in index.read_text(encoding="utf-8"):
        return False
    return all((html_dir / rel).is_file() for rel in _template_files(template))


LOCALISED_MARK = 'id="nav-li-perfwatch"'  # what asv_publish.localize_index adds


def copy_template(html_dir: Path, manifest: OutputManifest,
                   localize: Callable[[Path], None]) -> None:
    """asv's ``www`` template (when missing or of another asv version), localised."""
    import asv

    stamp = f"asv-{asv.__version__}"
    template = Path(asv.__file__).parent / "www"
    if _template_in_place(template, html_dir, manifest, stamp):
        return
    for rel in _template_files(template):
        target = html_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(target.parent, 0o755)
        shutil.copyfile(template / rel, target)
        os.chmod(target, 0o644)
    os.chmod(html_dir, 0o755)
    localize(html_dir)
    manifest.extra["template"] = stamp


def summary_list(benchmarks: Mapping[str, Any], graphs: Any) -> dict[str, list[Any]]:
    """asv's ``SummaryList.publish`` rows per file (from the graphs' steps)."""
    results: dict[str, list[Any]] = {}
    for name, benchmark in sorted(benchmarks.items()):
        for graph in graphs.get_graph_group(name):
            path = graph_file_path(graph.params, "summary") + ".json"
            results.setdefault(path, []).extend(
                graph_summary_rows(name, benchmark, graph.get_steps()))
    return {p: sorted(rows, key=lambda x: (x["name"], x["idx"])) for p, rows in results.items()}


_SUMMARY_KEYS = ("name", "idx", "pretty_name", "last_rev", "last_value", "last_err",
                 "prev_value", "change_rev")


def graph_summary_rows(name: str, benchmark: Mapping[str, Any], steps: Any
                       ) -> list[dict[str, Any]]:
    """asv's summary-list rows of one graph of benchmark ``name``: one per parameter
    combination (asv's ``benchmark_param_iter``); ``steps`` as asv's ``get_steps`` gives
    them (one list, or one per combination for a parameterised benchmark)."""
    combos: list[tuple[int | None, tuple[Any, ...]]] = (
        list(enumerate(itertools.product(*benchmark["params"]))) if benchmark["params"]
        else [(None, ())])
    out = []
    for idx, values in combos:
        pretty = benchmark.get("pretty_name") or name
        if idx is not None:
            pretty = f"{pretty}({', '.join(values)})"
        mine = steps[idx] if idx is not None and steps else steps
        row = summary_row(mine)
        row.update(name=name, idx=idx, pretty_name=pretty)
        out.append({k: row[k] for k in _SUMMARY_KEYS})
    return out


def summary_row(steps: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"last_rev": None, "last_value": None, "last_err": None,
                           "prev_value": None, "change_rev": None}
    if not steps:
        return row
    last = steps[-1]
    row.update(last_value=last[2], last_err=last[4], last_rev=last[1] - 1)
    if len(steps) > 1:
        prev = steps[-2]
        row["prev_value"] = prev[2]
        row["change_rev"] = [None, last[0]] if prev[1] == last[0] else [prev[1] - 1, last[0]]
    return row


def _pages() -> list[list[str]]:
    from asv import util
    from asv.publishing import OutputPublisher

    classes = sorted(util.iter_subclasses(OutputPublisher), key=lambda cls: cls.order)
    return [[cls.name, cls.button_label, cls.description] for cls in classes]


def _machines(results_dir: Path) -> dict[str, Any]:
    from asv import util
    from asv.machine import iter_machine_files

    out = {}
    for path in iter_machine_files(str(results_dir)):
        d = util.load_json(path)
        out[d["machine"]] = d
    return out


def index_document(conf: Any, *, revisions: Mapping[str, int], tags: Mapping[str, int],
                   hash_to_date: Mapping[str, Any], params: Mapping[str, set[Any]],
                   branch_names: Mapping[str | None, str],
                   graph_param_list: list[dict[str, Any]], benchmarks: Mapping[str, Any],
                   results_dir: Path) -> dict[str, Any]:
    """asv's ``index.json`` (``publish.py``'s last step)."""
    from asv.commands.publish import check_benchmark_params

    listed = {k: sorted(v, key=lambda x: "[none]" if x is None else str(x))
              for k, v in params.items()}
    listed["branch"] = [branch_names[b] for b in conf.branches]
    bmap = dict(benchmarks)
    for key, entry in bmap.items():
        check_benchmark_params(key, entry)
    return {
        "project": conf.project, "project_url": conf.project_url,
        "show_commit_url": conf.show_commit_url, "hash_length": conf.hash_length,
        "revision_to_hash": {r: h for h, r in revisions.items()},
        "revision_to_date": {r: hash_to_date[h] for h, r in revisions.items()},
        "params": listed, "graph_param_list": graph_param_list,
        "benchmarks": bmap, "machines": _machines(results_dir), "tags": dict(tags),
        "pages": _pages(),
    }


def asv_version() -> str:
    from importlib_metadata import version

    return str(version("asv"))


def info_text(version: str) -> str:
    """asv's ``info.json``: asv's ``version`` and this run's time as asv writes it
    (``util.datetime_to_js_timestamp``, ported so that an append does not import asv)."""
    delta = datetime.datetime.now(datetime.UTC) - datetime.datetime(1970, 1, 1,
                                                                     tzinfo=datetime.UTC)
    micro = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    stamp, rest = divmod(micro, 1000)
    stamp += rest >= 500
    return json.dumps({"asv-version": version, "timestamp": stamp}, indent=4, sort_keys=True)
