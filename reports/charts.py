"""Charts as reportlab drawings: shown as SVG in the dashboards and drawn as vectors in the PDFs.

matplotlib is not installed in the platform environment (and no dependency may be added), so the
charts use reportlab.graphics, which the PDF exports need anyway. Each chart is drawn from the
table that the dashboard also shows (reports.views), so the numbers stay readable.
"""

from __future__ import annotations

import math

import pandas as pd
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors

from reports.fonts import FONT, FONT_BOLD, register_fonts
from reports.numbers import number

# Chưa đạt, Cơ bản, Thành thạo, Nâng cao, Chưa đánh giá: red → green, grey for not assessed.
LEVEL_COLOURS = [colors.HexColor(c) for c in ("#d7301f", "#fdae61", "#a6d96a", "#1a9641",
                                              "#bdbdbd")]


def to_svg(drawing: Drawing) -> str:
    text = renderSVG.drawToString(drawing)
    text = text[text.find("<svg"):]  # drop the XML prolog so it can sit inside HTML
    # The browser knows the installed font by its family name, not reportlab's face name.
    return text.replace(f"font-family: {FONT_BOLD}", "font-family: 'DejaVu Sans', sans-serif; "
                        "font-weight: bold").replace(f"font-family: {FONT}",
                                                     "font-family: 'DejaVu Sans', sans-serif")


def level_distribution(table: pd.DataFrame, level_cols: list[str], label_col: str,
                       width: int = 640, name_col: str | None = None) -> Drawing:
    """Stacked horizontal bars: people per level, one bar per competence (labelled with its
    code and, given `name_col`, its name)."""
    register_fonts()
    n = max(len(table), 1)
    height = 60 + 22 * n
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    left = 250 if name_col else 70
    chart.x, chart.y, chart.width, chart.height = left, 40, width - left - 20, height - 60
    rows = table.iloc[::-1]  # first competence on top
    chart.data = [tuple(float(v) for v in rows[c]) for c in level_cols] or [(0,)]
    labels = [str(v) for v in rows[label_col]]
    if name_col:
        labels = [_short(f"{c} – {nm}", 44) for c, nm in zip(labels, rows[name_col], strict=True)]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labelTextFormat = number
    chart.valueAxis.valueMin = 0
    most = max((sum(row) for row in zip(*chart.data, strict=True)), default=1)
    chart.valueAxis.valueStep = max(1, math.ceil(most / 8))  # whole people on the axis
    chart.barWidth = 14
    for i in range(len(level_cols)):
        chart.bars[i].fillColor = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        chart.bars[i].strokeColor = None
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = 20, 18  # five levels side by side need the whole width
    legend.fontName = FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 95
    legend.colorNamePairs = list(zip(LEVEL_COLOURS, level_cols, strict=False))
    d.add(legend)
    return d


def heatmap(table: pd.DataFrame, row_col: str, width: int = 640) -> Drawing:
    """Row × column grid (competence × department); the colour and the printed number are
    the mean level."""
    register_fonts()
    cols = [c for c in table.columns if c != row_col]
    rows = list(table[row_col])
    left, top, cell_h = 260, 24, 22
    cell_w = max(24, (width - left - 10) / max(len(cols), 1))
    height = top + cell_h * max(len(rows), 1) + 10
    d = Drawing(width, height)
    for j, c in enumerate(cols):
        # About 3.8 px per character at 7 pt: the header is cut to its cell's width.
        d.add(String(left + j * cell_w + cell_w / 2, height - 14, _short(str(c), int(cell_w / 3.8)),
                     fontName=FONT, fontSize=7, textAnchor="middle"))
    for i, r in enumerate(rows):
        y = height - top - (i + 1) * cell_h
        d.add(String(left - 6, y + 7, _short(str(r), 48), fontName=FONT, fontSize=8,
                     textAnchor="end"))
        for j, c in enumerate(cols):
            v = table.iloc[i][c]
            empty = v is None or (isinstance(v, float) and math.isnan(v))
            fill = colors.HexColor("#eeeeee") if empty else _scale(float(v))
            d.add(Rect(left + j * cell_w, y, cell_w - 1, cell_h - 1, fillColor=fill,
                       strokeColor=None))
            d.add(String(left + j * cell_w + cell_w / 2, y + 7, "–" if empty else number(v, 1),
                         fontName=FONT, fontSize=7, textAnchor="middle"))
    return d


def horizontal_bars(labels: list[str], values: list[float], width: int = 640,
                    value_max: float | None = 100) -> Drawing:
    """One bar per label (e.g. completion rate per course, in %)."""
    register_fonts()
    n = max(len(labels), 1)
    height = 30 + 20 * n
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 230, 20, width - 250, height - 30
    chart.data = [tuple(float(v) for v in values[::-1])] if values else [(0,)]
    chart.categoryAxis.categoryNames = [_short(x, 40) for x in labels[::-1]] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labelTextFormat = number
    chart.valueAxis.valueMin = 0
    if value_max is not None:
        chart.valueAxis.valueMax = value_max
    else:  # counts of people: whole numbers on the axis
        chart.valueAxis.valueStep = max(1, math.ceil(max(values, default=1) / 8))
    chart.bars[0].fillColor = colors.HexColor("#2b83ba")
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = number
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    d.add(chart)
    return d


def trend(labels: list[str], values: list[float | None], width: int = 640) -> Drawing:
    """A line across exam periods (e.g. share of people at Cơ bản or above, in %)."""
    register_fonts()
    d = Drawing(width, 180)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 50, 30, width - 80, 130
    chart.data = [tuple(0.0 if v is None else float(v) for v in values)] if values else [(0,)]
    # About 3.8 px per character at 7 pt: each period's label is cut to its share of the axis.
    room = int((width - 80) / max(len(labels), 1) / 3.8)
    chart.categoryAxis.categoryNames = [_short(x, room) for x in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labelTextFormat = number
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.lines[0].strokeColor = colors.HexColor("#1a9641")
    chart.lines[0].strokeWidth = 2
    d.add(chart)
    return d


def _scale(v: float) -> colors.Color:
    """0 (Chưa đạt) red → 3 (Nâng cao) green."""
    stops = LEVEL_COLOURS[:4]
    x = max(0.0, min(3.0, v))
    i = min(int(x), 2)
    return colors.linearlyInterpolatedColor(stops[i], stops[i + 1], i, i + 1, x)


def _short(text: str, n: int) -> str:
    """`text` cut to `n` characters at a word boundary (a cut word reads as another word)."""
    if len(text) <= n:
        return text
    cut = text[: max(n - 1, 1)]
    if " " in cut.strip():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip(" –-,:") + "…"
