from decimal import Decimal

import pytest

from question_bank import (
    AssemblyError,
    PoolItem,
    Question,
    Rule,
    assemble_paper,
    can_shuffle_options,
    scale_points,
)

OPTIONS = ("甲", "乙", "丙", "丁")


def choice(stem: str, category: tuple[str, ...], **fields) -> Question:
    fields = {"type": "single", "options": OPTIONS, "answer": "B", **fields}
    return Question(stem=stem, category=category, **fields)


@pytest.fixture
def pool() -> list[PoolItem]:
    items = [choice(f"条例{i}", ("党纪党规", "纪律处分条例")) for i in range(6)]
    items += [choice(f"党章{i}", ("党纪党规", "党章"), difficulty="hard") for i in range(4)]
    items += [
        Question(type="true_false", stem=f"判断{i}", answer=True, category=("师德",))
        for i in range(3)
    ]
    return [PoolItem(id=100 + i, question=q) for i, q in enumerate(items)]


RULES = [
    Rule(count=3, category=("党纪党规", "纪律处分条例")),
    Rule(count=2, category=("党纪党规",)),
]


def ids(paper) -> list[int]:
    return [item.id for item in paper.items]


def test_same_seed_gives_the_same_paper(pool):
    first = assemble_paper(pool, RULES, seed=7, shuffle_questions=True)
    again = assemble_paper(pool, RULES, seed=7, shuffle_questions=True)
    assert first == again
    others = {tuple(ids(assemble_paper(pool, RULES, seed=s))) for s in range(20)}
    assert len(others) > 1


def test_rules_respect_category_type_difficulty_and_never_repeat(pool):
    rules = [
        Rule(count=6, category=("党纪党规", "纪律处分条例")),
        Rule(count=4, category=("党纪党规",), difficulty="hard", points=Decimal(5)),
        Rule(count=3, type="true_false"),
    ]
    paper = assemble_paper(pool, rules, seed=1)
    assert len(set(ids(paper))) == 13
    assert [item.points for item in paper.items[6:10]] == [5] * 4
    assert all(item.question.type == "true_false" for item in paper.items[10:])
    assert paper.total_points == 6 * 2 + 4 * 5 + 3 * 2


def test_fixed_list_keeps_its_order(pool):
    paper = assemble_paper(pool, [105, 101, 110], seed=0, shuffle_options=False)
    assert ids(paper) == [105, 101, 110]
    assert paper.items[0].option_order == (0, 1, 2, 3)


def test_missing_or_repeated_ids_are_named(pool):
    with pytest.raises(AssemblyError, match="找不到这些题目：999"):
        assemble_paper(pool, [101, 999], seed=0)
    with pytest.raises(AssemblyError, match="重复的题目：101"):
        assemble_paper(pool, [101, 101], seed=0)


def test_shortage_names_the_rule_and_the_counts(pool):
    rules = [
        Rule(count=5, category=("党纪党规", "纪律处分条例")),
        Rule(count=6, category=("党纪党规",), type="single"),
    ]
    with pytest.raises(AssemblyError) as error:
        assemble_paper(pool, rules, seed=0)
    message = str(error.value)
    assert message == (
        "第2条规则（分类“党纪党规”，单选题）要抽6题，题库中符合条件的共10题，"
        "其中5题已被前面的规则抽走，只剩5题，请减少抽题数量或向题库补充题目"
    )


def test_empty_spec_is_refused(pool):
    with pytest.raises(AssemblyError, match="组卷规则为空"):
        assemble_paper(pool, [], seed=0)


def test_shuffled_options_are_graded_against_the_original_answer(pool):
    paper = assemble_paper(pool, [100], seed=3)
    (item,) = paper.items
    assert item.option_order != (0, 1, 2, 3)
    assert sorted(item.displayed_options) == sorted(OPTIONS)
    shown = item.displayed_answer
    assert item.displayed_options["ABCD".index(shown)] == "乙"
    assert item.grade(shown).is_correct
    assert not item.grade("B" if shown != "B" else "A").is_correct


def test_multiple_choice_mapping_round_trips():
    question = Question(type="multiple", stem="多", options=OPTIONS, answer=("A", "D"))
    (item,) = assemble_paper([PoolItem(1, question)], [1], seed=5).items
    assert item.to_original(item.displayed_answer) == ("A", "D")
    assert item.grade(list(item.displayed_answer)).score == 2


@pytest.mark.parametrize(
    "option",
    [
        "以上都是",
        "以上均不正确",
        "以上说法都对",
        "以上三项",
        "上述皆非",
        "A和B都对",
        "都正确",
        "All of the above",
        "none of the above",
    ],
)
def test_options_pointing_at_other_options_are_never_shuffled(option):
    question = Question(type="single", stem="题", options=("甲", "乙", option), answer="C")
    assert not can_shuffle_options(question)
    for seed in range(10):
        (item,) = assemble_paper([PoolItem(1, question)], [1], seed=seed).items
        assert item.option_order == (0, 1, 2)


def test_plain_options_and_true_false(pool):
    assert can_shuffle_options(choice("题", (), options=("五年以上", "三年以下")))
    tf = pool[-1]
    assert not can_shuffle_options(tf.question)
    assert assemble_paper(pool, [tf.id], seed=1).items[0].option_order == ()


def test_scale_points_sums_exactly(pool):
    paper = assemble_paper(pool, [100, 101, 102], seed=0)
    scaled = scale_points(paper.items)
    assert [item.points for item in scaled] == [Decimal("33.5"), Decimal("33.5"), Decimal("33")]
    assert sum(item.points for item in scaled) == 100
    finer = scale_points(paper.items, 10, step=Decimal("0.1"))
    assert [item.points for item in finer] == [Decimal("3.4"), Decimal("3.3"), Decimal("3.3")]


def test_scale_points_keeps_proportions(pool):
    paper = assemble_paper(pool, [RULES[0]], seed=0)
    weighted = [
        paper.items[0].__class__(i.id, i.question, p, i.option_order)
        for i, p in zip(paper.items, (Decimal(1), Decimal(2), Decimal(2)), strict=True)
    ]
    assert [item.points for item in scale_points(weighted, 50)] == [10, 20, 20]


def test_scale_points_refuses_impossible_targets(pool):
    items = assemble_paper(pool, [100, 101, 102], seed=0).items
    with pytest.raises(AssemblyError, match="整数倍"):
        scale_points(items, Decimal("10.3"))
    with pytest.raises(AssemblyError, match="太小"):
        scale_points(items, 1)
