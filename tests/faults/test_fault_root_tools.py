"""Root-only fault tools: tmpfs/loop mounts, network namespaces, cgroups; and rlimits."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_echo import EchoServer, recv_exactly

from perfwatch.harness.faults import (
    CgroupLimits,
    FaultProxy,
    NetnsPair,
    NofileLimit,
    find_leftovers,
    fs_usage,
    is_root,
    list_cgroups,
    list_namespaces,
    loop_mount,
    mounts_under,
    nofile_limit,
    open_fds,
    remount_tmpfs,
    tmpfs_mount,
)

needs_root = pytest.mark.skipif(
    not is_root(), reason="needs root: mounts, network namespaces and cgroups (CI runs as root)"
)


def _fill(directory: Path, chunk: int = 64 * 1024) -> OSError:
    """Write files until the filesystem refuses; return the error it gave."""
    data = b"\0" * chunk
    i = 0
    while True:
        try:
            (directory / f"f{i}").write_bytes(data)
        except OSError as err:
            return err
        i += 1


@needs_root
def test_tmpfs_fills_up_and_unmounts(tmp_path: Path) -> None:
    point = tmp_path / "small"
    with tmpfs_mount(point, 1024 * 1024) as fs:
        assert mounts_under(tmp_path) == [point]
        assert fs_usage(point).total_bytes == 1024 * 1024
        assert _fill(point).errno == errno.ENOSPC
        assert fs_usage(point).free_bytes < 64 * 1024
        remount_tmpfs(point, 2 * 1024 * 1024)
        (point / "after-grow").write_bytes(b"\0" * 512 * 1024)
        assert fs.fstype == "tmpfs"
    assert mounts_under(tmp_path) == []


@needs_root
def test_tmpfs_inode_exhaustion(tmp_path: Path) -> None:
    point = tmp_path / "few-inodes"
    with tmpfs_mount(point, 8 * 1024 * 1024, nr_inodes=10):
        err = _fill(point, chunk=1)
        assert err.errno == errno.ENOSPC
        assert fs_usage(point).free_inodes == 0
        assert fs_usage(point).free_bytes > 1024 * 1024  # space left, inodes gone
    assert not mounts_under(tmp_path)


@needs_root
def test_unmounts_when_the_body_fails(tmp_path: Path) -> None:
    point = tmp_path / "m"
    with pytest.raises(RuntimeError), tmpfs_mount(point, 1024 * 1024):
        raise RuntimeError("test body failed")
    assert not mounts_under(tmp_path)


@needs_root
def test_loop_mount_ext4(tmp_path: Path) -> None:
    point = tmp_path / "loop"
    with loop_mount(point, 4 * 1024 * 1024, image=tmp_path / "img", inodes=64) as fs:
        assert fs.fstype == "ext4"
        assert _fill(point).errno == errno.ENOSPC
    assert not mounts_under(tmp_path)
    assert not (tmp_path / "img").exists()


@needs_root
def test_netns_link_down_stops_traffic_through_the_proxy() -> None:
    with NetnsPair() as pair:
        assert set(list_namespaces()) >= {pair.a.namespace, pair.b.namespace}
        server = EchoServer(pair.socket_in(pair.a), host=pair.a.address)
        try:
            upstream = (pair.a.address, server.address[1])
            proxy = FaultProxy(upstream, socket_factory=lambda: pair.socket_in(pair.b))
            with proxy, socket.create_connection(proxy.address, timeout=5) as c:
                c.sendall(b"over veth")
                assert recv_exactly(c, 9) == b"over veth"
                pair.link_down()
                c.settimeout(0.5)
                c.sendall(b"lost?")
                with pytest.raises(TimeoutError):
                    c.recv(10)
                pair.link_up()
                c.settimeout(10)  # TCP retransmits once the link is back
                assert recv_exactly(c, 5) == b"lost?"
        finally:
            server.close()
    assert not [ns for ns in list_namespaces() if ns.startswith(pair.name)]


@needs_root
def test_cgroup_limits_apply_and_clean_up() -> None:
    with CgroupLimits(cpu_cores=0.2, memory_bytes=64 * 1024 * 1024) as cg:
        burn = "import time\nt=time.time()\nwhile time.time()-t<0.6: pass\n"
        proc = subprocess.Popen(cg.wrap([sys.executable, "-c", burn]))
        try:
            deadline = time.monotonic() + 10
            while proc.pid not in cg.pids() and time.monotonic() < deadline:
                time.sleep(0.01)  # sh joins the cgroups first thing
            assert proc.pid in cg.pids()
            assert proc.wait(timeout=30) == 0
        finally:
            proc.kill()
            proc.wait()
        stats = cg.stats()
        assert stats.nr_throttled > 0
        assert stats.memory_max_usage_bytes > 0
        hog = subprocess.run(
            [sys.executable, "-c", "b = bytearray(200 * 1024 * 1024)"],
            preexec_fn=cg.preexec, capture_output=True, timeout=60, check=False,
        )
        assert hog.returncode != 0  # killed by the OOM killer or MemoryError
        assert cg.stats().memory_failcnt > 0
    assert cg.name not in {p.name for p in list_cgroups()}


def test_nofile_limit_preexec() -> None:
    code = (
        "import errno\nfs=[]\ntry:\n    [fs.append(open('/dev/null')) for _ in range(100)]\n"
        "except OSError as e:\n    print(e.errno, len(fs))\n"
    )
    for how in ("preexec", "wrap"):
        argv = [sys.executable, "-c", code]
        limit = NofileLimit(20)
        if how == "wrap":
            done = subprocess.run(limit.wrap(argv), capture_output=True, text=True, timeout=30,
                                  check=True)
        else:
            done = subprocess.run(argv, preexec_fn=limit, capture_output=True,
                                  text=True, timeout=30, check=True)
        out = done.stdout.split()
        assert int(out[0]) == errno.EMFILE
        assert int(out[1]) < 20


def test_nofile_limit_on_a_running_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with nofile_limit(proc.pid, 16) as old:
            assert Path(f"/proc/{proc.pid}/limits").read_text().count(" 16 ") >= 1
        assert f"{old[0]}" in Path(f"/proc/{proc.pid}/limits").read_text()
        assert open_fds(proc.pid) >= 3
    finally:
        proc.kill()
        proc.wait()


def test_find_leftovers_sees_a_child(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert proc.pid in find_leftovers(tmp_path).child_pids
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in find_leftovers(tmp_path).child_pids


@needs_root
def test_namespaces_and_cgroups_go_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError), NetnsPair() as pair, CgroupLimits(cpu_cores=0.5) as cg:
        assert pair.a.namespace in list_namespaces() and cg.name in {p.name for p in list_cgroups()}
        raise RuntimeError("test body failed")
    assert pair.a.namespace not in list_namespaces()
    assert cg.name not in {p.name for p in list_cgroups()}


@needs_root
def test_cgroup_close_moves_live_processes_out() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with CgroupLimits(memory_bytes=256 * 1024 * 1024) as cg:
            cg.add(proc.pid)
            assert cg.pids() == [proc.pid]
        assert cg.name not in {p.name for p in list_cgroups()}  # rmdir worked with it alive
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
