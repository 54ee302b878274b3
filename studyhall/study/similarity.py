"""How much of a reflection is found in another text: a flag for the reviewer, never a
verdict.

The measure is the *containment* of character 3-gram shingles (Broder, 1997):

    containment(A, B) = |S(A) ∩ S(B)| / |S(A)|

where S(T) is the set of every run of three consecutive characters of T after
normalising it: NFKC (full-width letters and digits become ASCII), lower case, and only
the characters that 字数 counts kept (CJK characters, letters, digits), so that changing
punctuation, spaces or line breaks hides nothing. It reads "the share of this
reflection's text that is also in that text".

Why these choices:

* Characters, not words: Chinese has no spaces, and a word segmenter would be a large
  dependency whose errors change the score. Chinese words are mostly one to three
  characters, so a 3-gram spans a word and its neighbour: two texts written
  independently on the same material share stock phrases (学习贯彻, 立德树人) but
  seldom three characters in a row across a whole paragraph.
* Containment, not Jaccard (|A ∩ B| / |A ∪ B|): a reflection that copies two
  paragraphs of a ten-page material is 90 % contained in it but has a Jaccard index near
  zero, because the material is much longer. Containment is also the right question for
  a colleague's text with a few sentences added: those additions lower Jaccard but not
  the share of the copy that was taken.
* Sets, not counts: repeating a sentence does not raise the score.

Measured on the samples in tests/unit/test_study_similarity.py: a colleague's
reflection copied with edits (words swapped, a sentence dropped, punctuation changed)
scores 0.78 against the original; two reflections written independently on the same
material score 0.02; an honest reflection scores 0.05 against the material and one
pieced together from the material's sentences 0.87. Reviewers see a flag from
``FLAG_AT`` (0.5) up, and the figure itself from ``SHOW_AT`` (0.2) up. Texts of fewer
than ``MIN_SHINGLES`` shingles are not compared: a few characters say nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TypeVar

from studyhall.study.text import is_cjk

SHINGLE_SIZE = 3
FLAG_PERCENT = 50
FLAG_AT = FLAG_PERCENT / 100
SHOW_AT = 0.2
MIN_SHINGLES = 20

Key = TypeVar("Key")


def normalise(text: str) -> str:
    """Only the characters 字数 counts, NFKC-folded and lower-cased, run together."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if is_cjk(c) or unicodedata.category(c)[0] in "LN")


def shingles(text: str, size: int = SHINGLE_SIZE) -> frozenset[str]:
    """Every run of ``size`` consecutive normalised characters of ``text``."""
    flat = normalise(text)
    return frozenset(flat[i:i + size] for i in range(len(flat) - size + 1))


def containment(own: frozenset[str], other: frozenset[str]) -> float:
    """The share of ``own``'s shingles that are also in ``other`` (0 when ``own`` is empty)."""
    if not own:
        return 0.0
    return len(own & other) / len(own)


def comparable(own: frozenset[str]) -> bool:
    return len(own) >= MIN_SHINGLES


def best_matches(own: frozenset[str], others: Iterable[tuple[Key, frozenset[str]]],
                 limit: int = 3) -> list[tuple[Key, int]]:
    """The ``limit`` texts that contain most of ``own``, highest first, from ``SHOW_AT``:
    each with how many of ``own``'s shingles it holds (the containment is that count over
    ``len(own)``; kept as integers so that pages round the share once, in figures.py)."""
    if not comparable(own):
        return []
    scored = [(key, len(own & shingled)) for key, shingled in others]
    scored = [(key, shared) for key, shared in scored if shared >= SHOW_AT * len(own)]
    scored.sort(key=lambda pair: pair[1], reverse=True)
    return scored[:limit]
