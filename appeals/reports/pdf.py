"""The PDF engine: WeasyPrint with shipped fonts, and the fast path for long registers.

Long registers (the appeal journal) are laid out by us into pages of rows whose height we
estimate from the font's glyph widths, rendered as independent chunks of pages in parallel
processes, merged with pypdf, and only then stamped with "page X of Y" and the footer, so every
page number is right whatever the chunking. Chunk PDFs carry only data (no print time, no
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

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FONTS_DIR = HERE / "fonts"
PRINT_CSS = HERE / "print.css"
MM = 72 / 25.4  # points per millimetre

# Page geometry shared by print.css (@page wide) and the row packer below.
WIDE_PAGE = {"width": 297.0, "height": 210.0, "top": 10.0, "bottom": 12.0, "left": 8.0, "right": 8.0}
CHUNK_MAX_PAGES = 10  # bounds a worker's memory per chunk
WORKER_MAX_CHUNKS = 6  # then the worker is replaced (cheap: it forks from the preloaded forkserver)


# --- WeasyPrint set-up, once per process -------------------------------------------------


class LocalOnlyFetcher:
    """Resources come from the project's own folders only; nothing is ever fetched remotely."""

    def __init__(self):
        from weasyprint.urls import URLFetcher

        self._inner = URLFetcher(allowed_protocols={"file"})
        self._root = str(HERE.parent.parent)

    def fetch(self, url, headers=None):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        if parsed.scheme != "file" or not os.path.realpath(unquote(parsed.path)).startswith(self._root):
            raise ValueError(f"refused to fetch {url!r}: documents use local resources only")
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
    css = CSS(filename=str(PRINT_CSS), font_config=font_config, url_fetcher=fetcher)
    return font_config, fetcher, css


# Release fonts while the interpreter is still whole (FontConfiguration.__del__ needs its libraries).
atexit.register(_engine.cache_clear)


def html_to_pdf(html, extra_css=""):
    """One WeasyPrint pass: HTML string (+ small per-document CSS) to PDF bytes."""
    from weasyprint import CSS, HTML

    font_config, fetcher, css = _engine()
    stylesheets = [css]
    if extra_css:
        stylesheets.append(CSS(string=extra_css, font_config=font_config, url_fetcher=fetcher, base_url=_base_url()))
    document = HTML(string=html, base_url=_base_url(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)


def _base_url():
    return FONTS_DIR.as_uri() + "/"


# --- CSS helpers for margin boxes ---------------------------------------------------------


def css_string(text):
    """A CSS string literal (for content:) from arbitrary text."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{text}"'


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


# --- Row packing: text width from the font's own advance widths -------------------------


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


def text_lines(text, width_mm, size_pt, font_file="DejaVuSansCondensed.ttf"):
    """How many lines `text` takes in a column `width_mm` wide (greedy wrap like the renderer)."""
    if not text:
        return 1
    widths, default = _advances(font_file)
    limit = width_mm * MM / size_pt  # in em
    space = widths.get(32, default)
    lines, current = 1, 0.0
    for word in str(text).split():
        w = sum(widths.get(ord(ch), default) for ch in word)
        if w > limit:  # a word longer than the column breaks anywhere
            extra = current + (space if current else 0) + w
            lines += int(extra // limit)
            current = extra % limit
            continue
        needed = w if current == 0 else current + space + w
        if needed <= limit:
            current = needed
        else:
            lines += 1
            current = w
    return lines


class TableLayout:
    """Columns of a register table and the arithmetic that packs rows into printed pages."""

    def __init__(self, columns, font_size=7.5, line_height=1.2, header_lines=2, header_size=7.0,
                 cell_padding_mm=1.2, page=WIDE_PAGE, safety=0.95, width_safety=0.975):
        self.columns = columns  # [(key, width_mm, wraps)]
        self.font_size = font_size
        self.line_mm = font_size * line_height / MM
        self.pad = cell_padding_mm + 0.2  # vertical padding + the bottom rule
        self.header_mm = header_lines * header_size * 1.15 / MM + self.pad
        self.page_body_mm = (page["height"] - page["top"] - page["bottom"]) * safety
        # Fixed layout distributes the table width proportionally; the text box is width minus padding.
        usable = page["width"] - page["left"] - page["right"]
        scale = usable / sum(width for _, width, _ in columns)
        # Kerning and the renderer's own rounding make real lines a little shorter or longer than
        # the sum of advances; leaving a small margin keeps a packed page from overflowing.
        self.text_width = {key: (width * scale - 2.2) * width_safety for key, width, _ in columns}

    def row_height(self, row):
        lines = 1
        for key, _width, wraps in self.columns:
            if wraps:
                lines = max(lines, text_lines(row.get(key, ""), self.text_width[key], self.font_size))
        return lines * self.line_mm + self.pad

    def paginate(self, rows, first_page_reserved_mm=0.0, last_page_reserved_mm=0.0):
        """Split rows into pages; the first page leaves room for the document's title block, the
        last one for totals and signatures, so a signature never stands alone on a page."""
        pages, current, used = [], [], first_page_reserved_mm + self.header_mm
        heights = []
        for row in rows:
            height = self.row_height(row)
            if current and used + height > self.page_body_mm:
                pages.append(current)
                current, used = [], self.header_mm
            current.append(row)
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


def _render_chunk(html, extra_css):
    """Runs in a worker process: lay out one chunk of pages."""
    started = time.process_time()
    pdf = html_to_pdf(html, extra_css)
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
    def key(html, extra_css):
        digest = hashlib.sha256()
        digest.update(PRINT_CSS.read_bytes())
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


def render_chunks(chunks, extra_css="", workers=2, progress=None, cache=None, stats=None):
    """Render [html, ...] to PDFs (in order), in parallel when it pays off."""
    results = [None] * len(chunks)
    keys = [ChunkCache.key(html, extra_css) for html in chunks]
    todo = []
    for index, key in enumerate(keys):
        cached = cache.get(key) if cache else None
        if cached is not None:
            results[index] = cached
        else:
            todo.append(index)
    done = len(chunks) - len(todo)
    if stats is not None:
        stats.update(cached_chunks=done, chunks=len(chunks), render_cpu=0.0)
    if progress:
        progress(done, len(chunks))
    if len(todo) <= 1 or workers <= 1:
        for index in todo:
            results[index], seconds = _render_chunk(chunks[index], extra_css)
            if stats is not None:
                stats["render_cpu"] = stats.get("render_cpu", 0.0) + seconds
            if cache:
                cache.put(keys[index], results[index])
            done += 1
            if progress:
                progress(done, len(chunks))
        return results
    # A fresh pool every few chunks per worker: WeasyPrint's caches and fragmentation otherwise let a
    # worker's memory creep up over a 10,000-row register. (Not max_tasks_per_child: on Python 3.11
    # a pool that replaces its workers can hang.) Workers fork from the preloaded forkserver: cheap.
    batch = max(1, workers * WORKER_MAX_CHUNKS)
    for start in range(0, len(todo), batch):
        part = todo[start:start + batch]
        with ProcessPoolExecutor(max_workers=min(workers, len(part)), mp_context=_mp_context(),
                                 initializer=_warm_worker) as pool:
            futures = {pool.submit(_render_chunk, chunks[index], extra_css): index for index in part}
            for future in as_completed(futures):
                index = futures[future]
                results[index], seconds = future.result()
                if stats is not None:
                    stats["render_cpu"] = stats.get("render_cpu", 0.0) + seconds
                if cache:
                    cache.put(keys[index], results[index])
                done += 1
                if progress:
                    progress(done, len(chunks))
    return results


OVERLAY_PIECE_PAGES = 40  # overlay pages laid out per WeasyPrint pass: bounds memory on huge registers


def _page_label(page_template, page, pages):
    return str(page_template).replace("%(page)s", str(page)).replace("%(pages)s", str(pages))


def overlay_pieces(total, footer_left, page_template, page_name="wide", piece=OVERLAY_PIECE_PAGES):
    """HTML of the stamp pages, in pieces: each page carries its own "page X of Y" as a running
    element, so pieces are independent of each other (and can be rendered in parallel)."""
    from markupsafe import escape

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


def merge_and_stamp(chunk_pdfs, footer_left, page_template, page_name="wide", workers=1):
    """Concatenate chunk PDFs and stamp footer + 'page X of Y' computed on the merged document."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in chunk_pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    total = len(writer.pages)
    pieces, css = overlay_pieces(total, footer_left, page_template, page_name, piece=OVERLAY_PIECE_PAGES)
    stamps = render_chunks(pieces, css, workers=workers) if len(pieces) > 1 else [html_to_pdf(pieces[0], css)]
    index = 0
    for data in stamps:
        for stamp in PdfReader(io.BytesIO(data)).pages:
            page = writer.pages[index]
            page.merge_page(stamp)
            # merge_page leaves the rewritten content uncompressed (about 120 kB a page).
            page.compress_content_streams()
            index += 1
    if index != total:
        raise RuntimeError(f"page stamps do not match the document: {index} of {total}")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total


def chunk_pages(pages, workers, max_pages=CHUNK_MAX_PAGES):
    """Group pages into chunks: enough chunks to keep every worker busy, none too big."""
    count = max(workers, math.ceil(len(pages) / max_pages)) if len(pages) > 1 else 1
    count = min(count, len(pages))
    size = math.ceil(len(pages) / count)
    return [pages[i:i + size] for i in range(0, len(pages), size)]
