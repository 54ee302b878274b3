"""Words shared by the statistics pages and the exported sheets, so that both state the
same 统计口径 (DOMAIN.md, Figures) and the same retake rule."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext

from studyhall.i18n import lazy_gettext as _l
from studyhall.org.models import PoliticalGroup, PoliticalStatus, UnitKind
from studyhall.quizzes.models import Counting, Quiz
from studyhall.stats.queries import BAND_COUNT, band_edges
from studyhall.templating import points

STATE_LABELS = {
    "submitted": _l("Submitted"),
    "pending": _l("Awaiting grading"),
    "in_progress": _l("In progress"),
    "absent": _l("Did not take part"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


def counting_rule(quiz: Quiz) -> str:
    """Which attempt counts, in a sentence printed on every page and sheet."""
    if quiz.counting is Counting.HIGHEST:
        return _("Counted attempt: each person's highest score among their submitted "
                 "attempts (of equal scores, the earliest); attempts allowed: %(n)d.",
                 n=quiz.attempts_allowed)
    return _("Counted attempt: each person's last submitted attempt; attempts allowed: "
             "%(n)d.", n=quiz.attempts_allowed)


def method_notes(quiz: Quiz) -> list[str]:
    """The 统计口径 of the exam figures, one sentence each."""
    return [
        _("Expected: the people the exam was published to, with their unit and political "
          "status on that day. Sat: those with a submitted attempt. Absent = expected − "
          "sat. Participation rate = sat ÷ expected."),
        _("Average score = total of counted scores ÷ people who sat. The average over all "
          "expected counts absentees as 0: total ÷ expected."),
        _("Pass rate and excellent rate are shares of those who sat with a counted score at "
          "or above %(pass_mark)s and %(excellent_mark)s points (of %(total)s).",
          pass_mark=points(quiz.pass_mark), excellent_mark=points(quiz.excellent_mark),
          total=points(quiz.total_points)),
        _("Median: the middle counted score (the mean of the middle two for an even count). "
          "Standard deviation: sample standard deviation (n − 1), as Excel's STDEV.S."),
        _("A unit's figures cover its whole subtree. Rates are rounded half up to one "
          "decimal, scores and averages to two, from the exact values."),
        counting_rule(quiz),
    ]


def band_labels(quiz: Quiz) -> list[str]:
    """"[0, 10)", …, "[90, 100]": each band holds its lower edge, the last also the total."""
    edges = [points(edge) for edge in band_edges(quiz)]
    return [f"[{edges[k]}, {edges[k + 1]}{']' if k == BAND_COUNT - 1 else ')'}"
            for k in range(BAND_COUNT)]


def political_choices() -> list[tuple[str, str]]:
    """The 政治面貌 filter: the report groups first (党员 with 预备党员), then each status."""
    groups = [(g.value, g.label) for g in PoliticalGroup]
    return groups + [(s.value, s.label) for s in PoliticalStatus]


def kind_choices() -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in UnitKind]


def rank_choices() -> list[tuple[str, str]]:
    return [("average", _("Average score (of those who sat)")),
            ("average_expected", _("Average score (of all expected, absentees as 0)")),
            ("participation", _("Participation rate")),
            ("pass_rate", _("Pass rate"))]


def exam_word(key: str) -> str:
    """应考 / 实考 / 缺考: the exam's words for expected, sat, absent."""
    return {"expected": pgettext("exam", "Expected"), "sat": pgettext("exam", "Sat"),
            "absent": pgettext("exam", "Absent")}[key]
