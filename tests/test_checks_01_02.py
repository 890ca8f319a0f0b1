"""``checks.process_lifetimes`` (exercises 01 and 02): a right timing of start + join lies
between the span its processes cover and the time the call took; wrong ones fall outside."""

from __future__ import annotations

import time

from helpers import checks


def mean_start_join(ctx, repeats: int) -> float:
    """Right: every process timed from start() until join() returns, mean per process."""
    began = time.perf_counter()
    for _ in range(repeats):
        p = ctx.Process(target=time.sleep, args=(0,))
        p.start()
        p.join()
    return (time.perf_counter() - began) / repeats


def mean_start_only(ctx, repeats: int) -> float:
    """Wrong: only start() timed, the child's own start-up and the join left out."""
    total = 0.0
    for _ in range(repeats):
        p = ctx.Process(target=time.sleep, args=(0.05,))
        t0 = time.perf_counter()
        p.start()
        total += time.perf_counter() - t0
        p.join()
    return total / repeats


def timed(fn, *args) -> tuple[float, float, list[checks.Lifetime]]:
    """``fn(*args)``, the seconds the call took, and the lifetimes of its processes."""
    with checks.process_lifetimes() as lives:
        began = time.perf_counter()
        figure = fn(*args)
        took = time.perf_counter() - began
    return figure, took, lives


def test_a_right_mean_lies_between_the_span_and_the_call(mp_context) -> None:
    figure, took, lives = timed(mean_start_join, mp_context, 3)
    assert [life.method for life in lives] == [mp_context.get_start_method()] * 3
    assert all(life.joined is not None and life.joined > life.started for life in lives)
    span = lives[-1].joined - lives[0].started
    assert span <= figure * 3 <= took


def test_timing_start_alone_covers_less_than_the_span(mp_context) -> None:
    figure, _, lives = timed(mean_start_only, mp_context, 2)
    assert figure * 2 < 0.8 * (lives[-1].joined - lives[0].started)


def test_a_total_instead_of_a_mean_is_longer_than_the_call(mp_context) -> None:
    figure, took, _ = timed(lambda: mean_start_join(mp_context, 3) * 3)
    assert figure * 3 > took


def test_a_process_never_joined_has_no_join_instant(mp_context) -> None:
    with checks.process_lifetimes() as lives:
        p = mp_context.Process(target=time.sleep, args=(1,), name="unjoined")
        p.start()
        p.join(timeout=0.01)  # still sleeping: no join instant
    assert [life.name for life in lives] == ["unjoined"] and lives[0].joined is None
    p.join()
