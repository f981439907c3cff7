"""Printed documents: data already gathered (services.py) in, PDF bytes out.

Every document is rendered inside `force_locale(lang)` so headings, labels and the
"page X of Y" line follow the language chosen when printing, not the interface language.
"""
import time
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from appeals.reports import pdf

# (key, width in mm, wraps): the same numbers size the <col>s of the single-pass journal and the
# columns of the fast path.
JOURNAL_COLUMNS = [
    ("n", 9, True), ("number", 25, True), ("date", 17, True), ("applicant", 30, True),
    ("settlement", 22, True), ("type", 17, True), ("category", 22, True), ("summary", 76, True),
    ("host", 24, True), ("status", 18, True), ("deadline", 17, True),
]
# The fast path sets the same columns as pre-set lines of text (see pdf.PreformattedTable).
JOURNAL_LINES = pdf.PreformattedTable([(key, width, "right" if key == "n" else "left")
                                       for key, width, _wraps in JOURNAL_COLUMNS])


def journal_headers():
    """Column headings (translated; the same msgids as templates/reports/pdf/journal.html)."""
    return ["№", _("Registration number"), _("Date"), _("Applicant"), _("Settlement"), _("Type"), _("Category"),
            _("Summary"), _("Host"), _("Status"), _("Deadline")]


@dataclass
class PrintedDocument:
    """What every printed document shares: heading, filter line, footer and signatures."""

    lang: str
    title: str
    org: str = ""
    subtitle: str = ""
    filters: list = field(default_factory=list)  # [(label, value)]
    generated_by: str = ""
    generated_at: str = ""
    signatures: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    totals: list = field(default_factory=list)  # [(label, value)]

    def footer_left(self):
        return _("Printed by %(user)s, %(time)s · Qabyldau", user=self.generated_by, time=self.generated_at)


def columns_css(columns, scale=1.0):
    return " ".join(f".cw-{key} {{ width: {width * scale:.2f}mm; }}" for key, width, _w in columns)


def _head_reserve_mm(doc):
    # Organisation, title, subtitle and the filter line(s) above the first table.
    filter_chars = sum(len(str(label)) + len(str(value)) + 3 for label, value in doc.filters)
    filter_lines = max(1, -(-filter_chars // 230)) if doc.filters else 0
    return 19.0 + 3.4 * filter_lines


def _tail_reserve_mm(doc):
    # Totals lines (about 3.3 mm each) and the signature block (about 12 mm a signatory).
    return 6 + 3.3 * len(doc.totals) + 8 + 12 * len(doc.signatures)


def render_journal(doc, workers=None, progress=None, cache_dir=None, stats=None):
    """The fast path: rows set as lines of text and packed into pages here, chunks of pages
    rendered in parallel, merged, and "page X of Y" stamped on the merged document."""
    workers = workers or current_app.config.get("REPORT_WORKERS", 2)
    started = time.perf_counter()
    layout = JOURNAL_LINES
    with force_locale(doc.lang):
        header = layout.set_header(journal_headers())
        pages = layout.paginate(doc.rows, header, first_page_reserved_mm=_head_reserve_mm(doc),
                                last_page_reserved_mm=_tail_reserve_mm(doc))
        chunks = pdf.chunk_pages(pages, workers)
        html_chunks = [
            render_template(
                "reports/pdf/journal_lines.html", doc=doc, pages=chunk, header=header, rules=layout.rules(),
                first=index == 0, last=index == len(chunks) - 1,
            )
            for index, chunk in enumerate(chunks)
        ]
        page_template = _("Page %(page)s of %(pages)s")
        footer_left = doc.footer_left()
    rules_css = layout.css(max_lines=max([header.lines] + [row.lines for page in pages for row in page]))
    html_done = time.perf_counter()
    cache = pdf.ChunkCache(cache_dir) if cache_dir else None
    # The packer's page count is exact (row heights are known line counts), so the page stamps are
    # laid out alongside the row chunks; merge_and_stamp redoes them should the count differ.
    chunk_pdfs, stamps = pdf.render_chunks(
        html_chunks, rules_css, workers=workers, progress=progress, cache=cache, stats=stats, sheet="journal",
        side_jobs=pdf.stamp_jobs(len(pages), footer_left, page_template),
    )
    layout_done = time.perf_counter()
    data, total = pdf.merge_and_stamp(chunk_pdfs, footer_left, page_template, workers=workers, stamps=stamps,
                                      stamps_total=len(pages))
    if stats is not None:
        stats.update(
            pages_planned=len(pages), pages=total, chunk_count=len(chunks),
            html_seconds=html_done - started, render_seconds=layout_done - html_done,
            merge_seconds=time.perf_counter() - layout_done,
        )
    return data


def render_journal_single(doc, extra_css=""):
    """One WeasyPrint pass over the whole journal, page numbers from CSS counters."""
    with force_locale(doc.lang):
        html = render_template(
            "reports/pdf/journal.html", doc=doc, columns=JOURNAL_COLUMNS, first=True, last=True, single=True,
        )
        css = columns_css(JOURNAL_COLUMNS) + pdf.footer_css(doc.footer_left(), _("Page %(page)s of %(pages)s"), "wide")
    return pdf.html_to_pdf(html, css + extra_css)


def render_simple(template, doc, page_name=None, **context):
    """Small documents (card, schedule, mandate list, summary): one pass with CSS page counters."""
    with force_locale(doc.lang):
        html = render_template(template, doc=doc, **context)
        css = pdf.footer_css(doc.footer_left(), _("Page %(page)s of %(pages)s"), page_name)
    return pdf.html_to_pdf(html, css)
