"""The repository's asv configuration and suite: discoverable, well-formed, pure helpers right."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import json5
import pytest

from perfwatch.model import Direction, direction_for

ROOT = Path(__file__).resolve().parents[2]


def bench(module: str) -> ModuleType:
    """A module of the suite, imported the way asv does (repository root on the path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.{module}")


def test_asv_conf_has_what_the_issue_asks() -> None:
    conf = json5.loads((ROOT / "asv.conf.json").read_text())
    assert (conf["repo"], conf["repo_subdir"], conf["environment_type"]) == \
        (".", "recorder", "virtualenv")
    assert (conf["benchmark_dir"], conf["results_dir"], conf["html_dir"], conf["env_dir"]) == \
        ("benchmarks", ".asv/results", ".asv/html", ".asv/env")
    assert conf["regressions_thresholds"][".*"] > 0 and conf["show_commit_url"].endswith("/")


def test_asv_discovers_and_checks_the_suite(tmp_path: Path) -> None:
    asv = Path(sys.executable).with_name("asv")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(asv), "check", "-E", "existing:same"], cwd=ROOT, text=True,
                          capture_output=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


def test_every_track_benchmark_has_a_unit_with_the_right_direction() -> None:
    import inspect

    expected_higher = {"track_frames_per_second", "track_bytes_per_second", "track_encode_fps",
                       "track_requests_per_second", "track_reclaim_throughput",
                       "track_stream_limit"}
    seen = set()
    for module in ("bench_recording", "bench_encode", "bench_api", "bench_rotation",
                   "bench_load_test"):
        mod = bench(module)
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            for name, fn in inspect.getmembers(cls, inspect.isfunction):
                if name.startswith("track_"):
                    unit = getattr(fn, "unit", None)
                    assert unit, f"{cls.__name__}.{name} has no unit"
                    higher = direction_for("track", unit, name) is Direction.HIGHER_IS_BETTER
                    assert higher == (name in expected_higher), (name, unit)
                    seen.add(name)
    assert len(seen) >= 25


def test_samples_packing_for_asv() -> None:
    samples = bench("common").samples
    assert samples([1.0, float("nan"), 3.0]) == {"samples": [1.0, 3.0], "number": 1}
    nan = samples([])
    assert isinstance(nan, float) and math.isnan(nan)  # asv shows NaN as n/a (skipped)


def test_exact_percentile_and_errors() -> None:
    burst = bench("burst")
    percentile, error_percent, Reply = burst.percentile, burst.error_percent, burst.Reply
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == \
        (50.0, 99.0, 100.0)
    replies = [Reply(0.1, 200)] * 8 + [Reply(0.1, 503), Reply(1.0, 0)]
    assert error_percent(replies) == 20.0
    assert error_percent([Reply(0.1, 404)]) == 0.0  # a 4xx is an answer, not an error


def test_latency_quantiles_parse_the_recorder_metrics() -> None:
    text = ('# TYPE recorder_ingest_to_durable_seconds_exact gauge\n'
            'recorder_ingest_to_durable_seconds_exact{quantile="0.5"} 1.0862140655517578\n'
            'recorder_ingest_to_durable_seconds_exact{quantile="0.99"} 2.01\n'
            'recorder_ingest_to_durable_seconds_exact{quantile="1"} 2.03\n')
    assert bench("scenarios").latency_quantiles(text) == {"0.5": 1.0862140655517578, "0.99": 2.01, "1": 2.03}


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_never_import_perfwatch(path: Path) -> None:
    text = path.read_text()
    assert "import perfwatch" not in text and "from perfwatch" not in text
