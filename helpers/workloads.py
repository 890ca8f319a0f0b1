"""CPU-bound work for measuring threads against processes.

Pure Python loops hold the GIL the whole time, so threads cannot run them in parallel;
processes can. Each function is deterministic, so a parallel run can be checked against
a serial one.
"""

from __future__ import annotations


def count_primes(limit: int) -> int:
    """Count the primes below ``limit`` by trial division (pure Python, CPU-bound)."""
    count = 0
    for n in range(2, limit):
        divisor = 2
        while divisor * divisor <= n:
            if n % divisor == 0:
                break
            divisor += 1
        else:
            count += 1
    return count


def square(x: float) -> float:
    """Return ``x * x``: the smallest worker function there is."""
    return x * x
