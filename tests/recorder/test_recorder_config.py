from __future__ import annotations

import json
from pathlib import Path

import pytest
from recorder.config import load_config, parse_stream
from recorder.errors import ConfigError

TOML = """
segment_seconds = 4
container = "ts"
[storage]
path = "rec"
[retention]
max_age_hours = 1
max_bytes = 1000000
[watchdog]
stall_seconds = 3
[api]
port = 0
[[streams]]
name = "cam0"
url = "rtsp://127.0.0.1:8554/cam0"
[streams.options]
rtsp_transport = "tcp"
[[streams]]
name = "cam1"
url = "rtsp://127.0.0.1:8554/cam1"
transcode = { codec = "libx264", preset = "ultrafast" }
"""


def test_toml_config_parses_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(TOML)
    cfg = load_config(path)
    assert cfg.segment_seconds == 4.0 and cfg.container == "ts"
    assert cfg.storage.path == tmp_path / "rec" and cfg.storage.cache == tmp_path / "rec" / ".cache"
    assert cfg.retention.max_age_hours == 1.0 and cfg.retention.max_bytes == 1_000_000
    assert cfg.watchdog.stall_seconds == 3.0 and cfg.watchdog.backoff_cap == 1.0
    assert [s.name for s in cfg.streams] == ["cam0", "cam1"]
    assert cfg.streams[0].options == {"rtsp_transport": "tcp"} and cfg.streams[0].transcode is None
    assert cfg.streams[1].transcode is not None and cfg.streams[1].transcode.preset == "ultrafast"
    assert cfg.api.host == "127.0.0.1"


def test_json_config_equivalent(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"storage": {"path": str(tmp_path / "s"), "cache": str(tmp_path / "c")},
                                "streams": [{"name": "a", "url": "rtsp://x/a"}]}))
    cfg = load_config(path)
    assert cfg.storage.cache == tmp_path / "c" and cfg.segment_seconds == 10.0 and cfg.container == "mp4"


@pytest.mark.parametrize("raw, fragment", [
    ({}, "storage.path"),
    ({"storage": {"path": "x"}, "segment_seconds": 0}, "segment_seconds"),
    ({"storage": {"path": "x"}, "container": "avi"}, "container"),
    ({"storage": {"path": "x"}, "retention": {"max_agee": 1}}, "unknown keys"),
    ({"storage": {"path": "x"}, "retention": {"max_bytes": "big"}}, "max_bytes"),
    ({"storage": {"path": "x"}, "streams": [{"name": "a", "url": "u"}, {"name": "a", "url": "v"}]},
     "duplicate"),
])
def test_bad_configs_name_the_problem(tmp_path: Path, raw: dict[str, object], fragment: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=fragment) as info:
        load_config(path)
    assert info.value.hint


@pytest.mark.parametrize("raw", [None, [], {"url": "rtsp://x"}, {"name": "../etc", "url": "rtsp://x"},
                                 {"name": "a"}, {"name": "a", "url": "rtsp://x", "options": [1]}])
def test_bad_stream_definitions(raw: object) -> None:
    with pytest.raises(ConfigError):
        parse_stream(raw)


def test_unreadable_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("segment_seconds = [")
    with pytest.raises(ConfigError, match="not valid"):
        load_config(bad)


def test_main_entry_point_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from recorder.__main__ import main

    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read config" in capsys.readouterr().err
    assert main(["bogus"]) == 2
    assert main([]) == 2
    with pytest.raises(SystemExit) as info:
        main(["cameras", "--help"])
    assert info.value.code == 0 and "--count" in capsys.readouterr().out


def test_documented_example_config_parses() -> None:
    import textwrap
    import tomllib

    import recorder.config as module
    from recorder.config import parse_config

    assert module.__doc__ is not None
    example = module.__doc__.split("::", 1)[1].split("A JSON file")[0]
    cfg = parse_config(tomllib.loads(textwrap.dedent(example)))
    assert [s.name for s in cfg.streams] == ["cam0", "cam1"] and cfg.restream == {"rtsp_port": 8654}
    assert cfg.streams[1].transcode is not None and cfg.mover_threads == 4
