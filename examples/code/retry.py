"""Retry a flaky operation with exponential backoff and jitter."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry(
    operation: Callable[[], T],
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
) -> T:
    """Call ``operation`` until it succeeds, waiting twice as long after each failure.

    The delay is randomised ("full jitter") so that many clients retrying at once do not
    hammer the server in lockstep.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except ConnectionError:
            if attempt == attempts - 1:
                raise
            delay = min(max_delay, base_delay * 2**attempt)
            time.sleep(random.uniform(0, delay))
    raise AssertionError("unreachable")
