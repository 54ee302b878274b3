"""The score sheet converts a city's submission times to the configured zone with the
offset looked up once a day: the same times as converting each one, across daylight
saving changes too."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytz

from studyhall.exports.scores import LocalTimes, local


def test_the_same_local_times_as_one_by_one():
    moments = [datetime(2026, 1, 1) + timedelta(minutes=37 * i, microseconds=i)
               for i in range(12000)]  # about 300 days, two changes in Berlin and New York
    edges = [datetime(2026, 3, 29, 0, 59, 59, 999999), datetime(2026, 3, 29, 1),
             datetime(2026, 10, 25, 1), datetime(2026, 3, 8, 7), datetime(2026, 11, 1, 6),
             datetime(2026, 12, 31, 23, 59, 59, 999999)]
    for name in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"):
        zone = pytz.timezone(name)
        to_local = LocalTimes(zone)
        for moment in moments + edges:
            assert to_local(moment) == local(moment, zone), (name, moment)
        assert to_local(None) is None
