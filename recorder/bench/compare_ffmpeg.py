"""Recorder vs ``ffmpeg -c copy -f segment`` on the same mock cameras, side by side in one run.

    python recorder/bench/compare_ffmpeg.py --cameras 16 --seconds 60 --resolution 1280x720 \
        --fps 30 --bitrate 2M --segment 10 --json out.json

Phases, on one camera rig: (1) one ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`` process per
camera for ``--seconds``; (2) the recorder (``python -m recorder serve``) recording every camera for
``--seconds``. CPU is read from /proc (utime+stime of the process tree) over the steady part of each
phase. Then the recorder's output is checked: every segment decodes with PyAV, the index matches the
files, no packet lost (timestamp gaps, and packets indexed == packets received - skipped before the
first keyframe), and the ingest-to-durable latency percentiles. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import av

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cameras(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], list[str]]:
    cmd = [sys.executable, "-m", "recorder", "cameras", "--count", str(args.cameras), "--port", "0",
           "--resolution", args.resolution, "--fps", str(args.fps), "--bitrate", args.bitrate,
           "--gop", str(args.gop or args.fps)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, ready["urls"]


def measure(pids: list[int], seconds: float, warmup: float) -> float:
    """CPU seconds per wall second of ``pids`` after a warm-up."""
    time.sleep(warmup)
    c0, t0 = cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pids) - c0) / (time.monotonic() - t0)


def stop(procs: list[subprocess.Popen[bytes]], sig: int = signal.SIGTERM) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def ffmpeg_phase(urls: list[str], out: Path, args: argparse.Namespace) -> dict[str, Any]:
    procs = []
    for i, url in enumerate(urls):
        d = out / f"cam{i}"
        d.mkdir(parents=True)
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
               "-c", "copy", "-f", "segment", "-segment_time", str(args.segment), "-reset_timestamps", "1",
               str(d / "%06d.mp4")]
        procs.append(subprocess.Popen(cmd))
    try:
        cpu = measure([p.pid for p in procs], args.seconds, args.warmup)
    finally:
        stop(procs, signal.SIGINT)
    files = sum(1 for _ in out.rglob("*.mp4"))
    return {"cpu_total": cpu, "cpu_per_stream": cpu / len(urls), "segments": files}


def recorder_phase(urls: list[str], out: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    cfg = {"storage": {"path": str(out)}, "segment_seconds": args.segment,
           "api": {"host": "127.0.0.1", "port": port}, "restream": {"rtsp_port": 0},
           "streams": [{"name": f"cam{i}", "url": u} for i, u in enumerate(urls)]}
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg_path = out.parent / "recorder.json"
    cfg_path.write_text(json.dumps(cfg))
    log = (out.parent / "recorder.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "recorder", "serve", "--config", str(cfg_path)],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_health(base)
        cpu = measure([proc.pid], args.seconds, args.warmup)
        streams = json.load(urllib.request.urlopen(f"{base}/api/streams"))
    finally:
        stop([proc])
        log.close()
    return {"cpu_total": cpu, "cpu_per_stream": cpu / len(urls), "exit_code": proc.returncode,
            "streams": streams, "log": str(out.parent / "recorder.log")}


def _wait_health(base: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/health")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("recorder did not become healthy")


def final_status(log: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in log.read_text().splitlines():
        if "final status " in line:
            body = json.loads(line.split("final status ", 1)[1])
            out[body["name"]] = body
    return out


def check_output(storage: Path, log: Path, decode: bool) -> dict[str, Any]:
    db = sqlite3.connect(storage / ".index" / "segments.db")
    rows = db.execute("SELECT stream, path, packets FROM segments").fetchall()
    db.close()
    files = {str(p.relative_to(storage)) for p in storage.rglob("*")
             if p.is_file() and not str(p.relative_to(storage)).startswith(".")}
    undecodable = []
    for _, path, packets in rows:
        try:
            with av.open(str(storage / path)) as c:
                n = sum(1 for _ in c.decode(video=0)) if decode else sum(1 for p in c.demux(video=0) if p.size)
            if n != packets:
                undecodable.append(path)
        except av.error.FFmpegError:
            undecodable.append(path)
    final = final_status(log)
    indexed: dict[str, int] = {}
    for stream, _, packets in rows:
        indexed[stream] = indexed.get(stream, 0) + packets
    lost = {name: st["packets"] - st["skipped"] - indexed.get(name, 0) for name, st in final.items()}
    return {"segments": len(rows), "index_matches_files": files == {r[1] for r in rows},
            "undecodable": undecodable, "lost_packets": lost,
            "dropped": {n: st["dropped"] for n, st in final.items()},
            "skipped_before_first_keyframe": {n: st["skipped"] for n, st in final.items()},
            "reconnects": {n: st["reconnects"] for n, st in final.items()}}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--resolution", default="1280x720")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", default="2M")
    ap.add_argument("--gop", type=int, default=0)
    ap.add_argument("--segment", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate ffmpeg/recorder phases this many times (median ratio; shared hosts drift)")
    ap.add_argument("--no-decode", action="store_true", help="check segments by demuxing only")
    ap.add_argument("--skip-ffmpeg", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    return ap


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"params": {k: str(v) for k, v in vars(args).items()}, "rounds": []}
    cams, urls = start_cameras(args)
    try:
        for i in range(args.rounds):
            rnd: dict[str, Any] = {}
            if not args.skip_ffmpeg:
                rnd["ffmpeg"] = ffmpeg_phase(urls, tmp / f"ffmpeg{i}", args)
            rec = recorder_phase(urls, tmp / f"rec{i}" / "storage", args)
            rnd["recorder"] = {k: v for k, v in rec.items() if k != "streams"}
            if "ffmpeg" in rnd:
                rnd["cpu_ratio"] = rec["cpu_per_stream"] / rnd["ffmpeg"]["cpu_per_stream"]
            result["rounds"].append(rnd)
    finally:
        stop([cams])
    lat = [s["latency"] for s in rec["streams"]]  # the last round's recorder
    result["latency_p99_max_over_streams"] = max((x["p99"] or 0.0) for x in lat)
    result["latency_p50_median"] = sorted((x["p50"] or 0.0) for x in lat)[len(lat) // 2]
    last = args.rounds - 1
    result["check"] = check_output(tmp / f"rec{last}" / "storage", Path(rec["log"]), not args.no_decode)
    ratios = [r["cpu_ratio"] for r in result["rounds"] if "cpu_ratio" in r]
    if ratios:
        result["cpu_ratio_recorder_over_ffmpeg"] = statistics.median(ratios)
    result["note"] = "camera CPU is not counted in either phase; the recorder also fsyncs and validates"
    return result


def main() -> int:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="rec-bench-") as tmp:
        result = run(args, Path(tmp))
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
