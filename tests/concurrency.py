"""Run a function from many threads at once, each with its own database connection.

For the PostgreSQL concurrency tests (pytest-django `transaction=True`): Django opens one
connection per thread, so the calls really race in the database."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def run_concurrently(target: Callable[[int], Any], count: int) -> list[Any]:
    """Start `count` threads that wait on a barrier, then call target(i) together. Returns
    each call's result, or the exception it raised."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = target(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
