"""The similarity flag: containment of character 3-gram shingles (no Flask app needed)."""

from hypothesis import given
from hypothesis import strategies as st

from studyhall.study.similarity import (
    FLAG_AT,
    best_matches,
    containment,
    normalise,
    shingles,
)
from tests.unit.reflection_samples import COPIED, FROM_MATERIAL, HONEST, HONEST2, MATERIAL


def score(a: str, b: str) -> float:
    return containment(shingles(a), shingles(b))


def test_a_colleagues_text_copied_with_edits_is_flagged():
    assert score(COPIED, HONEST) >= FLAG_AT
    # and the original shows the copy too: the reviewer compares the dates
    assert score(HONEST, COPIED) >= FLAG_AT


def test_independent_reflections_on_the_same_material_are_not():
    assert score(HONEST2, HONEST) < 0.1
    assert score(HONEST, HONEST2) < 0.1


def test_text_pieced_together_from_the_material_is_flagged_and_honest_text_is_not():
    assert score(FROM_MATERIAL, MATERIAL) >= FLAG_AT
    assert score(HONEST, MATERIAL) < 0.1
    assert score(COPIED, MATERIAL) < 0.1


def test_punctuation_spacing_and_width_hide_nothing():
    assert normalise("学习，贯彻 ＡＢ-c\n１２") == "学习贯彻abc12"
    retyped = HONEST.replace("，", ",").replace("。", ". ").replace("\n", "")
    assert score(retyped, HONEST) == 1.0


def test_best_matches_are_ordered_and_thresholded():
    others = [("honest2", shingles(HONEST2)), ("honest", shingles(HONEST)),
              ("material", shingles(MATERIAL))]
    matches = best_matches(shingles(COPIED), others)
    assert [key for key, _ in matches] == ["honest"]
    assert best_matches(shingles("学习贯彻"), others) == []  # too short to say anything


@given(st.text(), st.text())
def test_containment_is_a_share(a, b):
    value = containment(shingles(a), shingles(b))
    assert 0.0 <= value <= 1.0


@given(st.text(min_size=1), st.text(), st.text())
def test_a_text_is_wholly_contained_in_anything_that_quotes_it(a, before, after):
    own = shingles(a)
    if own:
        assert containment(own, shingles(before + "\n" + a + "\n" + after)) == 1.0
