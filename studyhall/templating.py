"""Jinja filters for dates (stored in UTC, shown in the configured time zone) and points."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_datetime


def localtime(value: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, pattern) if value else ""


def points(value) -> str:
    """100.00 → "100", 2.50 → "2.5"."""
    if value is None:
        return "-"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def register(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(points)

    # Rates and averages (|rate, |average, |score): one module, rounded half up.
    from studyhall import figures

    figures.register(app)
