"""The PDF engine: WeasyPrint with shipped fonts, and the fast path for long registers.

Long registers (the appeal journal) are set by us as lines of text from the font's own glyph
advances (PreformattedTable: no table layout, about 3x less WeasyPrint work than table cells),
packed into pages whose heights are therefore exact, rendered as independent chunks of pages in
parallel processes, merged with pypdf, and stamped with "page X of Y" and the footer (stamps laid
out alongside the chunks for the planned page count, drawn as form XObjects), so every page
number is right whatever the chunking. Chunk PDFs carry only data (no print time, no
user), so a chunk whose rows did not change is taken from a cache instead of being laid out again.
"""
import atexit
import hashlib
import io
import logging
import math
import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FONTS_DIR = HERE / "fonts"
PRINT_CSS = HERE / "print.css"
JOURNAL_CSS = HERE / "journal.css"  # the journal's chunks: a stylesheet of a few single-class rules
MM = 72 / 25.4  # points per millimetre

# Page geometry shared by print.css (@page wide) and the row packer below.
WIDE_PAGE = {"width": 297.0, "height": 210.0, "top": 10.0, "bottom": 12.0, "left": 8.0, "right": 8.0}
CHUNK_MAX_PAGES = 10  # bounds a worker's memory per chunk
WORKER_MAX_CHUNKS = 6  # then the worker is replaced (cheap: it forks from the preloaded forkserver)


# --- WeasyPrint set-up, once per process -------------------------------------------------


class LocalOnlyFetcher:
    """Documents may load the shipped fonts and print stylesheets, nothing else: no remote URL, and
    no other local file (the secret key, the database, the instance folder next to the code).

    Paths are compared resolved (symlinks and ".." followed) and by folder, not by string prefix,
    which would also admit sibling folders such as "fonts-private/".
    """

    ALLOWED_FOLDERS = (FONTS_DIR,)

    def __init__(self):
        from weasyprint.urls import URLFetcher

        self._inner = URLFetcher(allowed_protocols={"file"})
        self._folders = tuple(folder.resolve() for folder in self.ALLOWED_FOLDERS)
        self._files = frozenset(path.resolve() for path in (PRINT_CSS, JOURNAL_CSS))

    def allows(self, url):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return False
        path = Path(os.path.realpath(unquote(parsed.path)))
        return path in self._files or any(path.is_relative_to(folder) and path != folder for folder in self._folders)

    def fetch(self, url, headers=None):
        if not self.allows(url):
            raise ValueError(f"refused to fetch {url!r}: documents use the shipped fonts and stylesheets only")
        return self._inner.fetch(url, headers)

    def __call__(self, url):
        return self.fetch(url)


@lru_cache(maxsize=1)
def _engine():
    """Font configuration, URL fetcher and the parsed print stylesheet, reused by every render."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fetcher = LocalOnlyFetcher()
    sheets = {name: CSS(filename=str(path), font_config=font_config, url_fetcher=fetcher)
              for name, path in (("print", PRINT_CSS), ("journal", JOURNAL_CSS))}
    return font_config, fetcher, sheets


# Release fonts while the interpreter is still whole (FontConfiguration.__del__ needs its libraries).
atexit.register(_engine.cache_clear)


def html_to_pdf(html, extra_css="", sheet="print"):
    """One WeasyPrint pass: HTML string (+ small per-document CSS) to PDF bytes."""
    from weasyprint import CSS, HTML

    font_config, fetcher, sheets = _engine()
    stylesheets = [sheets[sheet]]
    if extra_css:
        stylesheets.append(CSS(string=extra_css, font_config=font_config, url_fetcher=fetcher, base_url=_base_url()))
    document = HTML(string=html, base_url=_base_url(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)


def _base_url():
    return FONTS_DIR.as_uri() + "/"


# --- CSS helpers for margin boxes ---------------------------------------------------------


def css_string(text):
    """A CSS string literal (for content:) from arbitrary text.

    Quotes, backslashes and every control character (CR and form feed end a CSS line, as LF does)
    become hex escapes, so no text can close the string and write rules of its own.
    """
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch in '"\\' or code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029":
            # A hex escape ends at the following space, which CSS swallows.
            out.append(f"\\{code:x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_counter_content(template):
    """'Page %(page)s of %(pages)s' (translated, placeholders in any order) -> CSS content value."""
    parts = re.split(r"(%\(page\)s|%\(pages\)s)", str(template))
    out = []
    for part in parts:
        if part == "%(page)s":
            out.append("counter(page)")
        elif part == "%(pages)s":
            out.append("counter(pages)")
        elif part:
            out.append(css_string(part))
    return " ".join(out) or '""'


def footer_css(left, page_template, page_name=None, right_content=None):
    """Margin boxes for the generated-by footer (left) and "page X of Y" (right)."""
    right_content = right_content or page_counter_content(page_template)
    selector = f"@page {page_name}" if page_name else "@page"
    box = "font-family: 'Qabyldau Sans'; font-size: 7pt; color: #222; vertical-align: top; padding-top: 2mm;"
    return (
        f"{selector} {{ @bottom-left {{ content: {css_string(left)}; {box} width: 75%; }}"
        f" @bottom-right {{ content: {right_content}; {box} text-align: right; }} }}"
    )


# --- Row setting and packing: text widths from the font's own advance widths ------------


@lru_cache(maxsize=4)
def _advances(font_file):
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONTS_DIR / font_file), lazy=True)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    units = font["head"].unitsPerEm
    widths = {code: hmtx[name][0] / units for code, name in cmap.items()}
    default = hmtx[cmap[ord("n")]][0] / units
    return widths, default


def _width_em(text, widths, default):
    return sum(widths.get(ord(ch), default) for ch in text)


def wrap_text(text, width_mm, size_pt, font_file="DejaVuSansCondensed.ttf"):
    """Greedy line breaking at spaces (a word longer than the column breaks anywhere): the lines as
    they are printed. Widths are the font's own advances, which is exactly what Pango lays out
    (no kerning in the shipped DejaVu faces)."""
    words = str(text or "").split()
    if not words:
        return [""]
    widths, default = _advances(font_file)
    limit = width_mm * MM / size_pt  # in em
    space = widths.get(32, default)
    lines, current, used = [], "", 0.0
    for word in words:
        w = _width_em(word, widths, default)
        if current and used + space + w <= limit:
            current, used = f"{current} {word}", used + space + w
            continue
        if current:
            lines.append(current)
            current, used = "", 0.0
        while w > limit:  # too long for any line: break it where the column ends
            part, acc = "", 0.0
            for ch in word:
                cw = widths.get(ord(ch), default)
                if part and acc + cw > limit:
                    break
                part, acc = part + ch, acc + cw
            lines.append(part)
            word = word[len(part):]
            w = _width_em(word, widths, default)
        current, used = word, w
    if current:
        lines.append(current)
    return lines


# Space characters of the shipped fonts: em, en, 1/3, 1/4, thin, 1/6 em, hair. Runs of them move
# the pen to a column's edge; combining the small ones gets within about 0.01 em (0.03 mm).
_SPACES = [0x2003, 0x2002, 0x2004, 0x2005, 0x2009, 0x2006, 0x200A]


@lru_cache(maxsize=4)
def _space_combos(font_file):
    """Every run of up to three of each small space, as sorted (width_em, text) pairs."""
    from itertools import product

    widths, _default = _advances(font_file)
    small = [(chr(code), widths[code]) for code in _SPACES[1:] if code in widths]
    best = {}
    for counts in product(range(4), repeat=len(small)):
        width = sum(count * w for count, (_ch, w) in zip(counts, small))
        text = "".join(ch * count for count, (ch, _w) in zip(counts, small))
        key = round(width, 4)
        if key not in best or len(text) < len(best[key]):
            best[key] = text
    combos = sorted(best.items())
    return [w for w, _t in combos], [t for _w, t in combos], widths[_SPACES[0]]


def spaces_for(gap_em, font_file="DejaVuSansCondensed.ttf"):
    """A run of space characters about `gap_em` wide."""
    import bisect

    widths, texts, em = _space_combos(font_file)
    bulk = max(0, int(gap_em // em) - 1)  # em spaces, leaving 1-2 em for the fine combination
    rest = gap_em - bulk * em
    index = bisect.bisect_left(widths, rest)
    candidates = [i for i in (index - 1, index) if 0 <= i < len(widths)]
    best = min(candidates, key=lambda i: abs(widths[i] - rest))
    return chr(_SPACES[0]) * bulk + texts[best]


class SetRow(NamedTuple):
    text: str  # the one-line cells, as one line of text
    lines: int  # the row's height in lines
    wrapped: list  # [(column index, "line\nline"), ...]


class PreformattedTable:
    """A register printed as pre-set lines of text instead of an HTML table.

    WeasyPrint spends most of a long register on per-cell work (a box, a style, a line layout and
    a text run for each of ~11,000 cells per 1000 rows). Here a row is one `white-space: pre`
    block: its one-line cells are a single line of text in which the pen is moved to each
    column's edge by space characters whose widths come from the font itself (the same advances
    Pango uses, so columns line up to ~0.03 mm); only the cells that wrap (the summary, long
    names) are blocks of their own. Lines are broken in Python with the same metrics, so a row's
    height is known before rendering and pages are packed exactly. The vertical rules are drawn
    once per page, the row rules by each row's bottom border.
    """

    def __init__(self, columns, font_size=7.5, line_height=1.2, header_size=7.0, header_line_height=1.15,
                 pad_mm=1.0, vpad_mm=0.6, rule_pt=0.5, page=WIDE_PAGE, font_file="DejaVuSansCondensed.ttf",
                 header_font_file="DejaVuSansCondensed-Bold.ttf", safety=0.985):
        self.columns = columns  # [(key, width_mm, align)]
        self.font_size, self.header_size = font_size, header_size
        self.font_file, self.header_font_file = font_file, header_font_file
        usable = page["width"] - page["left"] - page["right"] - 2 * rule_pt / MM
        scale = usable / sum(width for _, width, _ in columns)
        self.widths = [width * scale for _, width, _ in columns]
        self.lefts = [sum(self.widths[:i]) for i in range(len(columns))]
        self.width_mm = usable
        self.pad = pad_mm
        # A hair space of slack so rounding of the padding never pushes text into the next column.
        self.text_width = [w - 2 * pad_mm - 0.3 for w in self.widths]
        self.line_mm = font_size * line_height / MM
        self.header_line_mm = header_size * header_line_height / MM
        self.row_extra_mm = 2 * vpad_mm + rule_pt / MM
        self.page_body_mm = (page["height"] - page["top"] - page["bottom"]) * safety
        self.rule_mm = rule_pt / MM

    # -- text ---------------------------------------------------------------------------------

    def _set(self, cells, size, font_file):
        """[[line, ...] per column] -> SetRow: the row's one-line cells set as a single line of
        text, each at its column's left edge (right edge for right-aligned columns), and the cells
        that wrap kept apart as (column, lines): they are printed as blocks of their own, so a
        cell's text stays together when the PDF's text is extracted (copy, search, screen readers)."""
        widths, default = _advances(font_file)
        em_mm = size / MM
        parts, pen, wrapped = [], 0.0, []  # pen in em
        for col, (cell, (_key, _w, align)) in enumerate(zip(cells, self.columns)):
            if len(cell) > 1:
                wrapped.append((col, "\n".join(cell)))
                continue
            text = cell[0]
            if not text:
                continue
            text_em = _width_em(text, widths, default)
            if align == "right":
                start = (self.lefts[col] + self.widths[col] - self.pad) / em_mm - text_em
            else:
                start = (self.lefts[col] + self.pad) / em_mm
            if start > pen:
                parts.append(spaces_for(start - pen, font_file))
                pen = start
            parts.append(text)
            pen += text_em
        return SetRow("".join(parts), max(len(cell) for cell in cells), wrapped)

    def wrap_row(self, row):
        return [wrap_text(row.get(key, ""), width, self.font_size, self.font_file)
                for (key, _w, _a), width in zip(self.columns, self.text_width)]

    def set_row(self, row):
        return self._set(self.wrap_row(row), self.font_size, self.font_file)

    def set_header(self, labels):
        cells = [wrap_text(label, width, self.header_size, self.header_font_file)
                 for label, width in zip(labels, self.text_width)]
        return self._set(cells, self.header_size, self.header_font_file)

    def rules(self):
        """x of the inner vertical rules (mm from the grid's left edge)."""
        return list(self.lefts[1:])

    def css(self, max_lines=40):
        """Geometry for journal.css: rule and wrapped-cell positions, row heights by line count."""
        out = [f".v{index} {{ left: {x - self.rule_mm / 2:.3f}mm; }}" for index, x in enumerate(self.rules(), start=1)]
        # An explicit width spares WeasyPrint the shrink-to-fit measuring of absolute boxes.
        out += [f".w{col} {{ left: {left + self.pad:.3f}mm; width: {width - 2 * self.pad:.3f}mm; }}"
                for col, (left, width) in enumerate(zip(self.lefts, self.widths))]
        out += [f".l{n} {{ height: {n * self.line_mm:.3f}mm; }}" for n in range(1, max_lines + 1)]
        out += [f".hl{n} {{ height: {n * self.header_line_mm:.3f}mm; }}" for n in range(1, max_lines + 1)]
        return " ".join(out)

    # -- pages --------------------------------------------------------------------------------

    def row_height(self, row):
        return row.lines * self.line_mm + self.row_extra_mm

    def paginate(self, rows, header, first_page_reserved_mm=0.0, last_page_reserved_mm=0.0):
        """Rows -> pages of SetRows; the first page leaves room for the document's title block,
        the last one for totals and signatures (a signature never stands alone)."""
        header_mm = header.lines * self.header_line_mm + self.row_extra_mm + self.rule_mm
        pages, current, heights, used = [], [], [], first_page_reserved_mm + header_mm
        for row in rows:
            lines = self.set_row(row)
            height = self.row_height(lines)
            if current and used + height > self.page_body_mm:
                pages.append(current)
                current, heights, used = [], [], header_mm
            current.append(lines)
            heights.append(height)
            used += height
        if last_page_reserved_mm and current and used + last_page_reserved_mm > self.page_body_mm:
            carried = []
            while len(current) > 1 and used + last_page_reserved_mm > self.page_body_mm:
                carried.insert(0, current.pop())
                used -= heights.pop()
            if carried:
                pages.append(current)
                current = carried
        if current or not pages:
            pages.append(current)
        return pages


# --- Parallel chunk rendering --------------------------------------------------------------


def _render_chunk(html, extra_css, sheet="print"):
    """Runs in a worker process: lay out one chunk of pages."""
    started = time.process_time()
    pdf = html_to_pdf(html, extra_css, sheet)
    return pdf, time.process_time() - started


def _warm_worker():
    _engine()
    _advances("DejaVuSansCondensed.ttf")


_CONTEXT = None


def _mp_context():
    """forkserver: workers fork from a clean single-threaded server that has WeasyPrint imported,
    which is both quick and safe inside a threaded web server (plain fork of a threaded gunicorn
    worker can inherit held locks)."""
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["appeals.reports.pdf", "weasyprint"])
        _CONTEXT = ctx
    return _CONTEXT


class ChunkCache:
    """Chunk PDFs keyed by the hash of their HTML: an unchanged month is not laid out twice."""

    def __init__(self, folder, max_files=400):
        self.folder = Path(folder) if folder else None
        self.max_files = max_files
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(html, extra_css, sheet="print"):
        digest = hashlib.sha256()
        digest.update(sheet.encode())
        digest.update((JOURNAL_CSS if sheet == "journal" else PRINT_CSS).read_bytes())
        digest.update(extra_css.encode())
        digest.update(html.encode())
        return digest.hexdigest()

    def get(self, key):
        if not self.folder:
            return None
        path = self.folder / f"{key}.pdf"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        os.utime(path)
        return data

    def put(self, key, data):
        if not self.folder:
            return
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / f"{key}.pdf")
        self._prune()

    def _prune(self):
        files = sorted(self.folder.glob("*.pdf"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - self.max_files)]:
            try:
                old.unlink()
            except OSError:
                pass


def render_chunks(chunks, extra_css="", workers=2, progress=None, cache=None, stats=None, sheet="print",
                  side_jobs=()):
    """Render [html, ...] to PDFs (in order), in parallel when it pays off.

    `side_jobs` [(html, css, sheet), ...] run in the same worker pool (not cached, not counted in
    progress): the journal's page stamps are laid out while its row chunks are, instead of after.
    Returns the chunk PDFs, or (chunk PDFs, side job PDFs) when side jobs were given."""
    jobs = [(html, extra_css, sheet) for html in chunks] + list(side_jobs)
    results = [None] * len(jobs)
    keys = [ChunkCache.key(html, extra_css, sheet) for html in chunks]
    todo = []
    for index, key in enumerate(keys):
        cached = cache.get(key) if cache else None
        if cached is not None:
            results[index] = cached
        else:
            todo.append(index)
    todo.extend(range(len(chunks), len(jobs)))
    done = len(chunks) - sum(1 for index in todo if index < len(chunks))
    if stats is not None:
        stats.update(cached_chunks=done, chunks=len(chunks), render_cpu=0.0)
    if progress:
        progress(done, len(chunks))

    def finished(index, pdf, seconds):
        nonlocal done
        results[index] = pdf
        if index >= len(chunks):
            return
        if stats is not None:
            stats["render_cpu"] = stats.get("render_cpu", 0.0) + seconds
        if cache:
            cache.put(keys[index], pdf)
        done += 1
        if progress:
            progress(done, len(chunks))

    if len(todo) <= 1 or workers <= 1:
        for index in todo:
            finished(index, *_render_chunk(*jobs[index]))
    else:
        # A fresh pool every few chunks per worker: WeasyPrint's caches and fragmentation otherwise
        # let a worker's memory creep up over a 10,000-row register. (Not max_tasks_per_child: on
        # Python 3.11 a pool that replaces its workers can hang.) Workers fork from the preloaded
        # forkserver: cheap.
        batch = max(1, workers * WORKER_MAX_CHUNKS)
        for start in range(0, len(todo), batch):
            part = todo[start:start + batch]
            with ProcessPoolExecutor(max_workers=min(workers, len(part)), mp_context=_mp_context(),
                                     initializer=_warm_worker) as pool:
                futures = {pool.submit(_render_chunk, *jobs[index]): index for index in part}
                for future in as_completed(futures):
                    finished(futures[future], *future.result())
    if side_jobs:
        return results[:len(chunks)], results[len(chunks):]
    return results


OVERLAY_PIECE_PAGES = 40  # overlay pages laid out per WeasyPrint pass: bounds memory on huge registers


def _page_label(page_template, page, pages):
    return str(page_template).replace("%(page)s", str(page)).replace("%(pages)s", str(pages))


def overlay_pieces(total, footer_left, page_template, page_name="wide", piece=None):
    """HTML of the stamp pages, in pieces: each page carries its own "page X of Y" as a running
    element, so pieces are independent of each other (and can be rendered in parallel)."""
    from markupsafe import escape

    piece = piece or OVERLAY_PIECE_PAGES
    cls = page_name or "stamp"
    css = footer_css(footer_left, "", page_name, right_content="element(pageno)")
    css += f" .pageno {{ position: running(pageno); }} .{cls} {{ break-after: page; }}"
    pieces = []
    for first in range(1, total + 1, piece):
        last = min(total, first + piece - 1)
        body = "".join(
            f'<div class="{cls}"><span class="pageno">{escape(_page_label(page_template, number, total))}</span></div>'
            for number in range(first, last + 1)
        )
        pieces.append(f"<!doctype html><html><body>{body}</body></html>")
    return pieces, css


def stamp_jobs(total, footer_left, page_template, page_name="wide"):
    """The stamp pieces as side jobs for render_chunks."""
    pieces, css = overlay_pieces(total, footer_left, page_template, page_name)
    return [(html, css, "print") for html in pieces]


def _stamp(writer, page, stamp, name):
    """Draw `stamp` (a page of another PDF) over `page` as a form XObject: the page's own content
    stream is left as it is (pypdf's merge_page would parse and rewrite every text operator)."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

    form = DecodedStreamObject()
    form.set_data(stamp.get_contents().get_data())
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([FloatObject(v) for v in stamp.mediabox]),
        # Cloned into the writer (once per source object: the stamp pages share their font).
        NameObject("/Resources"): stamp["/Resources"].get_object().clone(writer),
    })
    form_ref = writer._add_object(form)
    resources = page["/Resources"].get_object()
    xobjects = resources.get("/XObject")
    if xobjects is None:
        xobjects = DictionaryObject()
        resources[NameObject("/XObject")] = xobjects
    xobjects = xobjects.get_object()
    xobjects[NameObject(name)] = form_ref
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(f"\nQ q {name} Do Q\n".encode())
    contents = page["/Contents"]
    contents = contents.get_object()
    parts = list(contents) if isinstance(contents, ArrayObject) else [page.raw_get("/Contents")]
    page[NameObject("/Contents")] = ArrayObject([writer._add_object(before), *parts, writer._add_object(after)])


def merge_and_stamp(chunk_pdfs, footer_left, page_template, page_name="wide", workers=1, stamps=None,
                    stamps_total=None):
    """Concatenate chunk PDFs and stamp footer + 'page X of Y' computed on the merged document.
    `stamps` are stamp PDFs already rendered for `stamps_total` pages (the planned count); they are
    used only if the document really has that many pages, otherwise the stamps are laid out here."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in chunk_pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    total = len(writer.pages)
    if stamps is None or stamps_total != total:
        jobs = stamp_jobs(total, footer_left, page_template, page_name)
        if len(jobs) > 1:
            stamps = render_chunks([], workers=workers, side_jobs=jobs)[1]
        else:
            stamps = [html_to_pdf(jobs[0][0], jobs[0][1])]
    index = 0
    for data in stamps:
        for stamp in PdfReader(io.BytesIO(data)).pages:
            _stamp(writer, writer.pages[index], stamp, f"/QStamp{index}")
            index += 1
    if index != total:
        raise RuntimeError(f"page stamps do not match the document: {index} of {total}")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total


def chunk_pages(pages, workers, max_pages=CHUNK_MAX_PAGES):
    """Group pages into chunks: enough chunks to keep every worker busy, none too big."""
    # A multiple of the workers, so that no worker idles through the last round.
    count = workers * math.ceil(len(pages) / (max_pages * workers)) if len(pages) > 1 else 1
    count = min(count, len(pages))
    size = math.ceil(len(pages) / count)
    return [pages[i:i + size] for i in range(0, len(pages), size)]
