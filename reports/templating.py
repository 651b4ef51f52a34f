"""The one Jinja environment setup of the report pages: templates/ with autoescaping, every value escaped as
html.escape does (``&#x27;``, ``&quot;``), so all pages spell escaped characters one way."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"


def esc(value: object) -> str:
    """HTML-escape any value (``None`` becomes the empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def environment(**options: Any) -> jinja2.Environment:
    """An environment over templates/ (``options``: Jinja's own, e.g. ``trim_blocks``)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: value if isinstance(value, Markup) else Markup(esc(value)),
        **options,
    )
