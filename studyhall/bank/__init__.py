from flask import Blueprint

bp = Blueprint("bank", __name__, url_prefix="/manage/bank")


@bp.context_processor
def _labels():
    from question_bank import DIFFICULTY_LABELS

    return {"difficulty_labels": DIFFICULTY_LABELS}
