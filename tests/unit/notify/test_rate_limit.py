"""R5: robots take 20 messages a minute each; queue and pace, never drop (simulated clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.rate_limit import RateLimit, next_send_at, pace

T0 = datetime(2030, 6, 3, 8, tzinfo=UTC)
ROBOT = RateLimit(20, timedelta(seconds=60))


def _busiest_window(times: list[datetime], window: timedelta) -> int:
    """The most sends in any half-open window [t, t + window) (a window's start can be taken
    at a send)."""
    return max(sum(start <= t < start + window for t in times) for start in times)


def test_sixty_notices_for_one_robot_are_all_sent_and_no_minute_holds_more_than_twenty() -> None:
    # A worker on a simulated clock: each tick it sends what the limiter allows now.
    queued, sent, now = 60, list[datetime](), T0
    while queued:
        at = next_send_at(sent, now, ROBOT)
        if at > now:
            now = at  # the clock jumps to when the queue may move
            continue
        sent.append(now)
        queued -= 1
        now += timedelta(milliseconds=50)
    assert len(sent) == 60
    assert _busiest_window(sent, ROBOT.window) == 20
    # Paced, not slowed down: three minutes' worth goes out in just over two.
    assert sent[-1] - sent[0] < timedelta(seconds=121)


def test_pace_gives_every_queued_notice_a_time_and_the_first_twenty_go_now() -> None:
    times = pace([], 60, T0, ROBOT)
    assert len(times) == 60
    assert times[:20] == [T0] * 20
    assert times[20] == T0 + timedelta(seconds=60)
    assert _busiest_window(times, ROBOT.window) == 20


def test_earlier_sends_in_the_log_count_against_the_current_minute() -> None:
    log = [T0 - timedelta(seconds=30)] * 20
    assert next_send_at(log, T0, ROBOT) == T0 + timedelta(seconds=30)
    assert next_send_at(log, T0 + timedelta(seconds=31), ROBOT) == T0 + timedelta(seconds=31)


@given(
    st.lists(st.integers(0, 300_000), max_size=40),
    st.integers(1, 80),
    st.integers(1, 25),
)
def test_no_window_ever_holds_more_than_the_limit(
    log_ms: list[int], count: int, limit: int
) -> None:
    rule = RateLimit(limit, timedelta(seconds=60))
    # A log the limiter itself produced is within the limit, so build it with the limiter.
    log: list[datetime] = []
    for ms in sorted(log_ms):
        log.append(next_send_at(log, T0 + timedelta(milliseconds=ms), rule))
    now = T0 + timedelta(seconds=300)
    times = pace(log, count, now, rule)
    assert len(times) == count and all(t >= now for t in times)
    assert _busiest_window(log + times, rule.window) <= limit
