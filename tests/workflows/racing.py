"""Real concurrency for the tests: threads released together, each on its own connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from django.db import connection

from workflows import services


def race(count: int, act: Callable[[int], object]) -> Counter[str]:
    """Run ``act`` in ``count`` threads released at the same moment; count how each ended."""
    start = threading.Barrier(count)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(number: int) -> None:
        try:
            start.wait()
            act(number)
            result = "done"
        except services.ServiceError as refusal:
            result = refusal.code
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
