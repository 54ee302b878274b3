"""Passwords: checking a login without revealing whether the account exists, and the
rules every password a person or an administrator sets must pass.

Two checks, one set of rules. ``password_problem`` (a person choosing a password, an
administrator creating an admin) adds zxcvbn's estimate to the quick rules, with the
Chinese common passwords of ``common_passwords`` as one of its dictionaries; zxcvbn
takes a millisecond or more per password, too slow for the 10,000 rows of a roster, so
imports run ``quick_problem`` alone: the commonest passwords by list (zxcvbn's and ours),
one character or a piece repeated, runs of digits or letters, and the account name or the
phone number inside. Either returns the reason in words a person can act on, or None.
"""

from __future__ import annotations

import secrets
import string
from functools import cache

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from studyhall.auth.common_passwords import COMMON
from studyhall.org.models import CHOSEN_PASSWORD_METHOD, Person

MIN_LENGTH = 8
MAX_LENGTH = 200
#: zxcvbn's score below which a password is refused: under a million guesses by its
#: estimate, which is where an attacker's list starts.
MIN_SCORE = 2
#: zxcvbn reads at most this many characters (its own limit; longer is never weak there).
ZXCVBN_MAX = 72


# -- logging in ---------------------------------------------------------------------------

@cache
def _dummy_hash() -> str:
    """A hash of a random password made as a chosen password is, to spend the same time on
    an account that does not exist as on one that does."""
    return generate_password_hash(secrets.token_urlsafe(16), method=CHOSEN_PASSWORD_METHOD)


def _method(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]


def verify_login(person: Person | None, password: str) -> bool:
    """Whether ``person`` may sign in with ``password``. Every call verifies exactly one
    full-strength hash, whether the account is unknown, inactive, without a password or
    still on a light initial hash, so the answer's timing does not tell them apart."""
    dummy = _dummy_hash()
    if person is None or not person.is_active or not person.password_hash:
        check_password_hash(dummy, password)
        return False
    ok = check_password_hash(person.password_hash, password)
    if _method(person.password_hash) != _method(dummy):
        check_password_hash(dummy, password)
    return ok


# -- choosing a password ------------------------------------------------------------------

def _advise(reason: str) -> str:
    return _("%(reason)s Choose a longer one that is hard to guess, such as two unrelated "
             "words with digits or signs between them.", reason=reason)


def _is_repeat(text: str) -> bool:
    """One character, or one piece, over and over: 88888888, 12121212, abcabcabc."""
    return any(text == (text[:size] * len(text))[:len(text)]
               for size in range(1, len(text) // 2 + 1))


def _is_run(text: str) -> bool:
    """Each character one up or one down from the last: 12345678, 87654321, 34567890,
    abcdefgh."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    if text.isdigit():
        steps = {step % 10 for step in steps}
        return steps in ({1}, {9})
    return steps in ({1}, {-1})


_DIGITS_AND_SIGNS = string.digits + string.punctuation + " "


def _common_words_reason() -> str:
    return _("Common words, names and pinyin (such as woaini, zhangwei or password) are "
             "easy to guess, even with digits or signs added.")


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(COMMON) | frozenset(FREQUENCY_LISTS["passwords"])


def quick_problem(password: str, *, account: str = "", phone: str = "") -> str | None:
    """Why ``password`` must not be used, by the quick rules; None if it passes them."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _("Use 8 to 200 characters.")
    lowered = password.lower()
    account = (account or "").strip().lower()
    digits = "".join(c for c in phone or "" if c.isdigit())
    if (account and (lowered == account or (len(account) >= 3 and account in lowered))) or (
            len(digits) >= 7 and digits in lowered):
        return _advise(_("A password must not contain the account name or the phone "
                         "number."))
    if _is_repeat(lowered):
        return _advise(_("One character or one piece repeated (such as 88888888 or "
                         "12121212) is easy to guess."))
    if _is_run(lowered):
        return _advise(_("A run of digits or letters (such as 12345678 or abcdefgh) is easy "
                         "to guess."))
    if lowered in _common():
        return _advise(_("This is one of the commonest passwords: it is among the first "
                         "anyone would try."))
    # "Laoshi@2024", "2024qwerty!": the first thing anyone tries is a common word with a
    # year, digits or a sign before or after it.
    core = lowered.strip(_DIGITS_AND_SIGNS)
    if len(core) >= 4 and core in _common():
        return _advise(_common_words_reason())
    return None


@cache
def _zxcvbn():
    from zxcvbn import matching, zxcvbn

    matching.add_frequency_lists({"studyhall_common": COMMON})
    return zxcvbn


def _reason(sequence: list[dict]) -> str:
    """Why zxcvbn found a password weak, from its longest recognised piece."""
    pieces = [match for match in sequence if match["pattern"] != "bruteforce"]
    if not pieces:
        return _("This password is too easy to guess.")
    pattern = max(pieces, key=lambda match: len(match["token"]))["pattern"]
    return {
        "dictionary": _common_words_reason(),
        "spatial": _("Keys next to each other on the keyboard (such as qwertyuiop or "
                     "1qaz2wsx) are easy to guess."),
        "repeat": _("One character or one piece repeated (such as 88888888 or 12121212) is "
                    "easy to guess."),
        "sequence": _("A run of digits or letters (such as 12345678 or abcdefgh) is easy to "
                      "guess."),
        "date": _("Dates and years (such as a birthday) are easy to guess."),
        "regex": _("Dates and years (such as a birthday) are easy to guess."),
    }.get(pattern, _("This password is too easy to guess."))


def password_problem(password: str, *, account: str = "", phone: str = "") -> str | None:
    """Why a person must not choose ``password``; None if it may be used."""
    problem = quick_problem(password, account=account, phone=phone)
    if problem:
        return problem
    result = _zxcvbn()(password[:ZXCVBN_MAX])
    if result["score"] < MIN_SCORE:
        return _advise(_reason(result["sequence"]))
    return None
