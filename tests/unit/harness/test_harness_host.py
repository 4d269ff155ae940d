"""Host detection on canned roots; check, fingerprint, render round trip, asv machine file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from perfwatch.errors import HardwareMismatchError
from perfwatch.harness.check import differences, fingerprint, require_match
from perfwatch.harness.host import HostFacts, detect_host
from perfwatch.harness.machine import machine_info, register_machine, require_same_fingerprint
from perfwatch.harness.profiles import load_profile, parse_profile
from perfwatch.harness.render import profile_from_host, render_profile

DATA = Path(__file__).parent / "data"
HARDWARE = Path(__file__).resolve().parents[3] / "hardware"


def _no_gpu() -> tuple[str, ...]:
    return ()


@pytest.fixture
def ci_host() -> HostFacts:
    return detect_host(DATA / "ci-2cpu", gpu_names=_no_gpu, free_path=DATA)


def _baremetal_root(tmp_path: Path) -> Path:
    """An 8-thread, 4-core SMT host with cpufreq and intel_pstate, NVMe disk."""
    blocks = []
    for i in range(8):
        blocks.append(
            f"processor\t: {i}\nmodel name\t: Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz\n"
            f"physical id\t: 0\nsiblings\t: 8\ncore id\t: {i % 4}\ncpu cores\t: 4\n"
        )
    (tmp_path / "proc").mkdir(parents=True)
    (tmp_path / "proc/cpuinfo").write_text("\n".join(blocks))
    (tmp_path / "proc/meminfo").write_text("MemTotal:       16384000 kB\nMemFree: 1 kB\n")
    cpu = tmp_path / "sys/devices/system/cpu"
    (cpu / "cpu0/cpufreq").mkdir(parents=True)
    (cpu / "cpu0/cpufreq/scaling_governor").write_text("powersave\n")
    (cpu / "intel_pstate").mkdir()
    (cpu / "intel_pstate/no_turbo").write_text("0\n")
    (tmp_path / "sys/block/nvme0n1/queue").mkdir(parents=True)
    return tmp_path


def test_detects_the_ci_machine(ci_host: HostFacts) -> None:
    assert ci_host.cpu_model == "Intel(R) Xeon(R) Processor"
    assert (ci_host.logical_cpus, ci_host.smt, ci_host.disk_kind) == (2, False, "virtio")
    assert (ci_host.governor, ci_host.turbo, ci_host.gpus) == (None, None, ())
    assert 20 < ci_host.memory_gib < 30
    assert differences(load_profile(HARDWARE / "ci-2cpu.toml"), ci_host) == []


def test_detects_smt_governor_turbo(tmp_path: Path) -> None:
    host = detect_host(_baremetal_root(tmp_path), gpu_names=_no_gpu)
    assert (host.logical_cpus, host.physical_cores, host.smt) == (8, 4, True)
    assert (host.governor, host.turbo, host.disk_kind) == ("powersave", True, "nvme")


def test_check_lists_every_difference_one_line_each(tmp_path: Path) -> None:
    host = detect_host(_baremetal_root(tmp_path), gpu_names=lambda: ("NVIDIA L4",))
    diffs = differences(load_profile(HARDWARE / "baremetal-8core.toml"), host)
    keys = [d.key for d in diffs]
    assert keys == ["cpu.model_pattern", "cpu.smt", "cpu.turbo", "cpu.governor",
                    "memory.total_gib"]
    assert str(diffs[3]) == "cpu.governor: profile wants performance, host has powersave"
    with pytest.raises(HardwareMismatchError) as info:
        require_match(load_profile(HARDWARE / "baremetal-8core.toml"), host)
    assert "\n" not in str(info.value) and "cpu.smt" in str(info.value)


def test_gpu_profiles_need_their_gpu(ci_host: HostFacts) -> None:
    l4 = load_profile(HARDWARE / "gpu-l4.toml")
    assert "gpu.model_pattern" in [d.key for d in differences(l4, ci_host)]
    with_l4 = replace(ci_host, gpus=("NVIDIA L4",), logical_cpus=8, smt=True,
                      memory_bytes=int(31.4 * 2**30))
    assert differences(l4, with_l4) == []


def test_detected_profile_round_trips_and_matches(tmp_path: Path, ci_host: HostFacts) -> None:
    for host in (ci_host, detect_host(_baremetal_root(tmp_path), gpu_names=lambda: ("Tesla T4",))):
        profile = profile_from_host(host)
        import tomllib

        again = parse_profile(tomllib.loads(render_profile(profile)))
        assert again == profile
        assert differences(again, host) == []


def test_geforce_detected_profile_is_capped(ci_host: HostFacts) -> None:
    host = replace(ci_host, gpus=("NVIDIA GeForce RTX 4070",))
    gpu = profile_from_host(host).gpu
    assert gpu is not None and gpu.max_encoder_sessions == 8


def test_fingerprint_changes_with_hardware_only(ci_host: HostFacts) -> None:
    same = replace(ci_host, governor="performance", disk_free_bytes=1)
    assert fingerprint(same) == fingerprint(ci_host)
    for drift in (replace(ci_host, logical_cpus=4), replace(ci_host, cpu_model="AMD EPYC"),
                  replace(ci_host, memory_bytes=ci_host.memory_bytes * 2),
                  replace(ci_host, gpus=("NVIDIA L4",))):
        assert fingerprint(drift) != fingerprint(ci_host)


def test_machine_file_and_drift_refusal(tmp_path: Path, ci_host: HostFacts) -> None:
    profile = load_profile(HARDWARE / "ci-2cpu.toml")
    info = machine_info(profile, ci_host)
    path = register_machine(info, tmp_path / "asv-machine.json")
    stored = json.loads(path.read_text())
    assert stored["version"] == 1 and stored["ci-2cpu"]["fingerprint"] == fingerprint(ci_host)
    results = tmp_path / "results"
    require_same_fingerprint(results, info)  # nothing recorded yet
    (results / "ci-2cpu").mkdir(parents=True)
    (results / "ci-2cpu/machine.json").write_text(json.dumps(info))
    require_same_fingerprint(results, info)
    drifted = machine_info(profile, replace(ci_host, logical_cpus=4))
    with pytest.raises(HardwareMismatchError, match="drifted"):
        require_same_fingerprint(results, drifted)


def test_cli_detect_prints_a_profile_this_host_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomllib

    from perfwatch.cli import main

    assert main(["hardware", "detect", "--name", "here"]) == 0
    text = capsys.readouterr().out
    profile = parse_profile(tomllib.loads(text))
    assert profile.name == "here" and text.startswith("# perfwatch hardware detect; fingerprint")
    path = tmp_path / "here.toml"
    path.write_text(text)
    assert main(["hardware", "check", str(path)]) == 0
    assert "host matches profile 'here'" in capsys.readouterr().out


def test_cli_check_lists_differences_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from perfwatch.cli import main

    code = main(["hardware", "check", "gpu-l4", "--hardware-dir", str(HARDWARE)])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert code == 1
    assert lines and all(line.startswith("HardwareMismatchError: ") for line in lines)
    assert any("gpu.model_pattern" in line for line in lines)
    assert "does not match profile 'gpu-l4'" in captured.err
    assert main(["hardware", "check", "nope", "--hardware-dir", str(HARDWARE)]) == 2


def test_prepare_picks_the_matching_profile_and_registers_it(
    tmp_path: Path, ci_host: HostFacts
) -> None:
    import shutil

    from perfwatch.errors import ConfigError
    from perfwatch.harness.session import prepare

    hw = tmp_path / "hw"
    hw.mkdir()
    for name in ("gpu-l4", "ci-2cpu", "baremetal-8core"):
        shutil.copy(HARDWARE / f"{name}.toml", hw)
    machine_file = tmp_path / "asv-machine.json"
    prepared = prepare(None, hardware_dir=hw, results_dir=tmp_path / "results",
                       machine_file=machine_file, host=ci_host)
    assert prepared.profile.name == "ci-2cpu"
    assert json.loads(machine_file.read_text())["ci-2cpu"]["fingerprint"] == fingerprint(ci_host)
    (hw / "ci-2cpu.toml").unlink()
    with pytest.raises(ConfigError, match="matches none of the profiles"):
        prepare(None, hardware_dir=hw, results_dir=tmp_path / "results",
                machine_file=machine_file, host=ci_host)
