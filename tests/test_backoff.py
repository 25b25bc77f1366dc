import random

from ktopui.kube.backoff import CAP, next_delay


def test_healthy_refreshes_keep_the_interval():
    assert next_delay(2.0, 0) == 2.0


def test_failures_back_off_exponentially_with_jitter_up_to_the_cap():
    rng = random.Random(1)
    for failures, ceiling in ((1, 4.0), (2, 8.0), (3, 16.0), (4, 32.0), (5, CAP), (30, CAP)):
        delays = [next_delay(2.0, failures, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 3) for d in delays}) > 100  # jittered, not lockstep


def test_retry_after_is_honoured_even_when_healthy():
    assert next_delay(2.0, 0, retry_after=30) == 30
    assert next_delay(2.0, 1, retry_after=30, rng=random.Random(0)) == 30
