"""HTTP bursts against the recorder's API from a thread pool (the standard library only)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    seconds: float
    status: int  # HTTP status; 0 when the request failed without one


def _one(url: str, timeout: float) -> Reply:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            reply.read()
            status = int(reply.status)
    except urllib.error.HTTPError as err:
        status = int(err.code)
    except OSError:
        status = 0
    return Reply(time.perf_counter() - t0, status)


def burst(urls: list[str], *, concurrency: int, timeout: float = 10.0) -> list[Reply]:
    """Fire every url in ``urls`` with ``concurrency`` requests in flight at once."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda u: _one(u, timeout), urls))


def percentile(values: list[float], q: float) -> float:
    """Exact order statistic (the smallest value with at least q% at or below it)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def error_percent(replies: list[Reply]) -> float:
    bad = sum(1 for r in replies if r.status == 0 or r.status >= 500)
    return 100.0 * bad / len(replies) if replies else float("nan")
