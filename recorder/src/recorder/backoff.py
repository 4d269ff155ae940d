"""Paced reconnect delays: exponential with a cap and full jitter from an injected rng."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """``next()`` gives base * 2**attempt capped at ``cap``, scaled by a jitter in [0.5, 1.0]."""

    base: float
    cap: float
    rng: random.Random
    attempt: int = 0

    def next(self) -> float:
        raw = min(self.cap, self.base * (2.0 ** self.attempt))
        self.attempt += 1
        return raw * (0.5 + 0.5 * self.rng.random())

    def reset(self) -> None:
        self.attempt = 0
