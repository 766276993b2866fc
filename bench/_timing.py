"""Interleaved rounds and medians, so a noisy 2-core machine still gives stable ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def rate(work: Callable[[], object], *, seconds: float = 0.2) -> float:
    """Calls per second of ``work`` over about ``seconds``."""
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            work()
        calls += 100
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started)


def compare(subject: Callable[[], object], reference: Callable[[], object], *, rounds: int = 7) -> tuple[float, float]:
    """Median calls/s of ``subject`` and of ``reference``, measured in alternating rounds."""
    subject_rates, reference_rates = [], []
    for _ in range(rounds):
        reference_rates.append(rate(reference))
        subject_rates.append(rate(subject))
    return statistics.median(subject_rates), statistics.median(reference_rates)
