"""Issue 11, items 3 and 4 for Moodle XML: cloze named, every lost medium warned about,
<pre> kept, and what the bank cannot keep listed per question."""

from question_bank import load_questions


def quiz(*questions: str) -> bytes:
    return ("<?xml version='1.0' encoding='UTF-8'?>\n<quiz>\n" + "\n".join(questions)
            + "\n</quiz>").encode()


def multichoice(text: str, answers: str, single: str = "true", extra: str = "") -> str:
    return (f'<question type="multichoice"><questiontext format="html"><text><![CDATA[{text}]]>'
            f"</text>{extra}</questiontext><single>{single}</single>{answers}</question>")


def answer(fraction: str, text: str, feedback: str = "") -> str:
    return (f'<answer fraction="{fraction}" format="html"><text>{text}</text>'
            f'<feedback format="html"><text>{feedback}</text></feedback></answer>')


def test_cloze_is_named_as_cloze():
    data = quiz('<question type="cloze"><questiontext><text>x</text></questiontext></question>')
    (item,) = load_questions(data, "moodle_xml").unsupported
    assert (item.line, item.construct) == (3, "cloze")
    assert "完形填空" in item.message and "未知题型" not in item.message


def test_each_image_audio_and_video_is_a_warning():
    stem = ('<p>看图<img src="@@PLUGINFILE@@/map.png"> 听<audio controls>'
            '<source src="@@PLUGINFILE@@/talk.mp3"></audio>'
            '<a href="https://example.org/clip.mp4">视频</a></p>')
    files = '<file name="map.png" encoding="base64">iVBO</file><file name="notes.pdf">JVBE</file>'
    data = quiz(multichoice(stem, answer("100", "甲") + answer("0", "乙"), extra=files))
    result = load_questions(data, "moodle_xml")
    assert [w.message for w in result.warnings] == [
        "图片“map.png”无法导入，已略去",
        "音频“talk.mp3”无法导入，已略去",
        "视频“clip.mp4”无法导入，已略去",
        "附件“notes.pdf”无法导入，已略去",
    ]
    assert result.questions[0].question.stem == "看图 听视频"


def test_moodle_19_images_are_warned_about():
    question = ('<question type="truefalse"><questiontext format="html"><text>对吗</text>'
                "</questiontext><image>pics/flag.gif</image><image_base64>R0lG</image_base64>"
                + answer("100", "true") + answer("0", "false") + "</question>")
    result = load_questions(quiz(question), "moodle_xml")
    assert [w.message for w in result.warnings] == ["图片“flag.gif”无法导入，已略去"]


def test_pre_keeps_its_line_breaks_and_indentation():
    stem = "<p>输出是什么？</p><pre>for i in range(2):\n    print(i)</pre>"
    data = quiz(multichoice(stem, answer("100", "0 1") + answer("0", "1 2")))
    (parsed,) = load_questions(data, "moodle_xml").questions
    assert parsed.question.stem == "输出是什么？\nfor i in range(2):\n    print(i)"


def test_per_answer_feedback_and_unequal_weights_are_listed_per_question():
    answers = (answer("70", "甲", "很好") + answer("30", "乙") + answer("-100", "丙", "错了"))
    data = quiz(multichoice("题", answers, single="false"))
    result = load_questions(data, "moodle_xml")
    assert result.questions[0].question.answer == ("A", "B")
    (warning,) = result.warnings
    assert warning.line == 3
    assert "选项A的反馈“很好”" in warning.message
    assert "选项C的反馈“错了”" in warning.message
    assert "A 70%、B 30%" in warning.message


def test_equal_weights_and_moodles_default_combined_feedback_are_no_warning():
    answers = answer("50", "甲") + answer("50", "乙") + answer("-100", "丙")
    extra = '</questiontext><correctfeedback><text>你的答案正确。</text></correctfeedback><x>'
    data = quiz(multichoice("题", answers, single="false").replace("</questiontext>", extra, 1)
                .replace("<single>", "</x><single>"))
    result = load_questions(data, "moodle_xml")
    assert result.questions[0].question.answer == ("A", "B")
    assert result.warnings == []


def test_true_false_feedback_and_shortanswer_partial_credit_are_listed():
    tf = ('<question type="truefalse"><questiontext format="plain_text"><text>对吗</text>'
          "</questiontext>" + answer("100", "true", "对") + answer("0", "false", "再想想")
          + "</question>")
    sa = ('<question type="shortanswer"><questiontext format="plain_text"><text>首都</text>'
          "</questiontext>" + answer("100", "北京") + answer("50", "燕京") + "</question>")
    result = load_questions(quiz(tf, sa), "moodle_xml")
    assert len(result.questions) == 2
    first, second = result.warnings
    assert "选“正确”时的反馈“对”" in first.message and "再想想" in first.message
    assert "部分得分答案“燕京”（50%）" in second.message
