"""The id converter's bound lives in its regular expression (so that a GET rule beside a
POST rule on one path answers 404, not 405, beyond it)."""

import re

from hypothesis import given
from hypothesis import strategies as st

from studyhall.converters import MAX_ID, _at_most


@given(limit=st.integers(min_value=0, max_value=2**64), n=st.integers(min_value=0,
                                                                      max_value=2**70))
def test_the_expression_matches_exactly_the_numbers_up_to_the_limit(limit, n):
    pattern = re.compile(_at_most(limit) + r"\Z")
    assert bool(pattern.match(str(n))) == (n <= limit)
    assert bool(pattern.match(str(limit)))


def test_the_edges_of_the_id_range():
    pattern = re.compile(_at_most(MAX_ID) + r"\Z")
    assert pattern.match("1") and pattern.match(str(MAX_ID))
    assert not pattern.match(str(MAX_ID + 1)) and not pattern.match("007")
