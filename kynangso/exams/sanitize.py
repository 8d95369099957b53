"""Learners' HTML as formgrader and feedback pages show it: sanitised, still readable.

nbconvert's `SanitizeHTML` preprocessor escapes scripts, event handlers and `javascript:` links
in markdown cells, raw cells and text/html or text/markdown outputs, and drops every other
output type that could run code (JavaScript, SVG, widget views: their text/plain stays). Its
default allow-list is too narrow for what our exams show the grader (the written answers'
transcript is a styled <div> with <p>: assessments/questions/written.py), so this one allows
the usual formatting tags, `class`, `style` (through bleach's CSS sanitiser) and images.
`HTMLExporter.sanitize_html` stays off: its filter would strip those again (no <p>, no style).
"""

from __future__ import annotations

from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import Dict, Set

FORMATTING = {"div", "span", "p", "br", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "sub",
              "sup", "u", "s", "del", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot",
              "caption", "tr", "th", "td", "img", "figure", "figcaption"}
BOX_STYLES = {"border", "border-top", "border-bottom", "border-left", "border-right",
              "border-radius", "padding", "padding-top", "padding-bottom", "padding-left",
              "padding-right", "margin", "margin-top", "margin-bottom", "margin-left",
              "margin-right", "max-width", "min-width"}


_STOCK = SanitizeHTML()


class LearnerHTML(SanitizeHTML):
    tags = Set(set(_STOCK.tags) | FORMATTING, config=True, help="Tags kept (others escaped).")
    attributes = Dict({"*": ["class", "style", "title"], "a": ["href", "title"],
                       "abbr": ["title"], "acronym": ["title"],
                       "img": ["src", "alt", "width", "height"],
                       "th": ["colspan", "rowspan"], "td": ["colspan", "rowspan"]},
                      config=True, help="Attributes kept per tag (others dropped).")
    styles = Set(set(_STOCK.styles) | BOX_STYLES, config=True, help="CSS properties kept.")
