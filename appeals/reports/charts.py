"""Server-rendered SVG charts for the dashboard.

Presentation attributes only (fill, font-size): the CSP forbids style="" and inline scripts.
Every bar is a link to the filtered list behind it, reachable by keyboard (SVG <a> is focusable).

Accessibility (axe-core, issue 14 item 20): the chart is a named group, not role="img" (an image
has no interactive children, so its links would be hidden from screen readers). Each link holds the
bar and its figure and is named "label: figure", which contains the figure it shows; the label,
which may be cut to fit, stays outside the link with the whole label in its <title>. Figures are
written by core.i18n.fmt_number (1 225 in kk and ru).
"""
import functools
from pathlib import Path

from markupsafe import Markup, escape
from PIL import ImageFont

from appeals.core.i18n import fmt_number, number_locale

BAR_COLOR = "#0b5cad"
ROW_HEIGHT = 22
LABEL_FONT_SIZE = 13


def _link(bar, inner, figure):
    if not bar.url:
        return inner
    label = escape(f"{bar.label}: {figure}")
    return f'<a href="{escape(bar.url)}" aria-label="{label}">{inner}</a>'


def _open_svg(width, height, title):
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')


def _hidden_if_linked(bar):
    # The link beside it says the label already; read once, not twice.
    return ' aria-hidden="true"' if bar.url else ""


@functools.cache
def _label_font():
    # DejaVu Sans (shipped for the PDFs) is the fallback sans font here and among the widest elsewhere:
    # a label that fits in it fits in the clerk's browser too.
    return ImageFont.truetype(str(Path(__file__).parent / "fonts" / "DejaVuSans.ttf"), LABEL_FONT_SIZE)


def _fit(text, room_px):
    """The label, cut with an ellipsis where it would not fit in `room_px` (the full text stays in <title>)."""
    return _fitted(str(text), room_px)


@functools.lru_cache(maxsize=4096)
def _fitted(text, room_px):
    # Labels are the names of offices, districts, categories and channels: a bounded set, measured once
    # each (a country's dashboard draws some 400 of them, and measuring is the charts' main cost).
    font = _label_font()
    if font.getlength(text) <= room_px:
        return text
    while text and font.getlength(text + "…") > room_px:
        text = text[:-1]
    return text.rstrip() + "…"


def bar_chart(bars, title, width=440, label_width=190):
    """Horizontal bars, longest first: category, channel, district, status."""
    if not bars:
        return Markup("")
    peak = max(bar.value for bar in bars) or 1
    plot = width - label_width - 50
    height = ROW_HEIGHT * len(bars) + 6
    parts = [_open_svg(width, height, title)]
    code = number_locale()
    for index, bar in enumerate(bars):
        figure = fmt_number(bar.value, locale=code)
        y = index * ROW_HEIGHT + 3
        length = max(1.0, plot * bar.value / peak) if bar.value else 0
        label = (
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="{LABEL_FONT_SIZE}" fill="#1d2733"'
            f'{_hidden_if_linked(bar)}>{escape(_fit(bar.label, label_width - 6))}<title>{escape(bar.label)}</title></text>'
        )
        inner = (
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{ROW_HEIGHT - 7}" rx="2" '
            f'fill="{BAR_COLOR}"/>'
            f'<text x="{label_width + length + 5:.1f}" y="{y + 14}" font-size="13" font-weight="bold" '
            f'fill="#1d2733">{escape(figure)}</text>'
        )
        parts.append(f'<g class="bar">{label}{_link(bar, inner, figure)}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(bars, title, width=440, height=220):
    """Vertical columns in time order: appeals per week."""
    if not bars:
        return Markup("")
    peak = max(bar.value for bar in bars) or 1
    top, bottom = 18, 34
    plot_h = height - top - bottom
    step = width / len(bars)
    col = min(56, step * 0.7)
    parts = [_open_svg(width, height, title),
             f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#aab6c3"/>']
    code = number_locale()
    for index, bar in enumerate(bars):
        figure = fmt_number(bar.value, locale=code)
        h = plot_h * bar.value / peak
        x = index * step + (step - col) / 2
        cx = index * step + step / 2
        inner = (
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{col:.1f}" height="{h:.1f}" rx="2" fill="{BAR_COLOR}"/>'
            f'<text x="{cx:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" font-size="13" '
            f'font-weight="bold" fill="#1d2733">{escape(figure)}</text>'
        )
        label = (f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" fill="#5d6b7a"'
                 f'{_hidden_if_linked(bar)}>{escape(bar.label)}</text>')
        parts.append(f'<g class="bar">{_link(bar, inner, figure)}{label}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))
