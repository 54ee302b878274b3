"""The fuzzing budget: a short one in ``make test``, a long one in ``make fuzz``.

``FUZZ=long`` selects the long profile (``FUZZ_EXAMPLES`` inputs per parser, 100,000
unless told); otherwise each parser gets ``SHORT_EXAMPLES``. Every input runs under
:func:`time_limit`, a SIGALRM that turns a hang into a failure naming the input."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

from hypothesis import HealthCheck, settings

SHORT_EXAMPLES = 120
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100000"))
#: Seconds one input may take before it counts as a hang (a slow shared CI box included).
PER_INPUT_SECONDS = float(os.environ.get("FUZZ_INPUT_SECONDS", "5"))

_COMMON = dict(deadline=None, derandomize=False, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture,
                                      HealthCheck.filter_too_much])
settings.register_profile("fuzz-short", max_examples=SHORT_EXAMPLES, **_COMMON)
settings.register_profile("fuzz-long", max_examples=LONG_EXAMPLES, database=None, **_COMMON)
PROFILE = "fuzz-long" if os.environ.get("FUZZ") == "long" else "fuzz-short"
FUZZ = settings(settings.get_profile(PROFILE))


class Hang(Exception):
    """An input took longer than PER_INPUT_SECONDS."""


@contextmanager
def time_limit(seconds: float = PER_INPUT_SECONDS):
    def alarm(signum, frame):
        raise Hang(f"one input took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
