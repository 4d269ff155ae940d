"""Hardware profiles: the shipped ones validate, broken ones fail with the key named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from perfwatch.errors import ConfigError
from perfwatch.harness.profiles import find_profile, load_profile, parse_profile

HARDWARE = Path(__file__).resolve().parents[3] / "hardware"
GOOD = {
    "profile": {"name": "x"},
    "cpu": {"model_pattern": "Xeon", "logical_cpus": 2, "pin": [0, 1]},
    "memory": {"total_gib": 8},
}


def test_shipped_profiles_validate() -> None:
    profiles = {p.stem: load_profile(p) for p in HARDWARE.glob("*.toml")}
    assert {"ci-2cpu", "baremetal-8core", "gpu-l4", "gpu-t4"} <= set(profiles)
    for stem, profile in profiles.items():
        assert profile.name == stem
    assert profiles["gpu-l4"].gpu is not None and profiles["gpu-l4"].gpu.max_encoder_sessions == 0
    assert profiles["gpu-t4"].gpu is not None and profiles["gpu-t4"].gpu.encoder == "h264_nvenc"
    assert profiles["baremetal-8core"].cpu.pin == (2, 3, 4, 5, 6, 7)
    assert profiles["ci-2cpu"].gpu is None
    assert profiles["ci-2cpu"].env_dict["PYTHONHASHSEED"] == "0"


def test_consumer_card_is_capped() -> None:
    gpus = [load_profile(p).gpu for p in HARDWARE.glob("*.toml")]
    capped = [g for g in gpus if g is not None and g.max_encoder_sessions > 0]
    assert capped and all("GeForce" in g.model_pattern for g in capped)


def _with(section: str, **changes: object) -> dict[str, dict[str, object]]:
    data = {k: dict(v) for k, v in GOOD.items()}
    data.setdefault(section, {}).update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with("cpu", pin=[0, 2]), "cpu.pin"),
        (_with("cpu", pin=[]), "cpu.pin"),
        (_with("cpu", model_pattern="("), "not a regex"),
        (_with("cpu", smt="maybe"), "cpu.smt"),
        (_with("cpu", logical_cpus="2"), "cpu.logical_cpus has the wrong type"),
        (_with("cpu", cores=2), "unknown key cpu.cores"),
        (_with("memory", total_gib=True), "memory.total_gib has the wrong type"),
        (_with("disk", kind="floppy"), "disk.kind"),
        (_with("gpu", count=1), "missing gpu.model_pattern"),
        (_with("gpus", model_pattern="L4"), "unknown section [gpus]"),
        (_with("profile", name="bad name"), "profile.name"),
        (_with("env", X=1), "[env] values must be strings"),
    ],
)
def test_bad_profiles_name_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_profile(data, source="t.toml")


def test_missing_section_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing section \[memory\]"):
        parse_profile({k: v for k, v in GOOD.items() if k != "memory"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[cpu\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile(bad)


def test_find_profile_by_name_or_path(tmp_path: Path) -> None:
    assert find_profile("gpu-l4", HARDWARE) == HARDWARE / "gpu-l4.toml"
    assert find_profile(str(HARDWARE / "gpu-t4.toml"), tmp_path).name == "gpu-t4.toml"
    with pytest.raises(ConfigError, match="known profiles: .*ci-2cpu"):
        find_profile("nope", HARDWARE)


def test_profiles_are_toml_documents_not_python() -> None:
    for path in HARDWARE.glob("*.toml"):
        assert "profile" in tomllib.loads(path.read_text())
