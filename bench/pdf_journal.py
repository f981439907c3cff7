"""Benchmark of the appeal journal PDF: naive single pass vs. the app's fast path.

    .venv/bin/python bench/pdf_journal.py [--rows 1000] [--workers 2] [--skip-10k]

Self-contained: builds the app on a throw-away SQLite file (no data needed) and renders rows
generated here through the same functions the app uses (appeals.reports.documents). Prints the
figures and, last, `ratio naive/fast = X`.

"naive" is the journal as first written: the same template and rows in one WeasyPrint pass, with
an automatic table layout, collapsed per-cell borders and CSS page counters. "lean single pass"
is the app's stylesheet in one pass (shows what markup/CSS alone buys); "fast" is the app's path.
"""
import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="qabyldau-bench-pdf-"))
os.environ.setdefault("QABYLDAU_INSTANCE", str(TMP / "instance"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP / 'bench.sqlite3'}")
os.environ.setdefault("SECRET_KEY", "bench")

NAIVE_CSS = """
table.grid { table-layout: auto; border-collapse: collapse; border: 1px solid #000; }
table.grid th, table.grid td { border: 1px solid #000; overflow-wrap: break-word; }
table.grid tbody tr:nth-child(even) td { background: #fafafa; }
"""

WORDS = ("көше жарығы жоқ, ауылдағы жол жөндеуді қажет етеді; ауыз су құбыры ескірген, "
         "мектепке дейінгі балалар мекемесі жетіспейді, әлеуметтік көмек тағайындау ұзаққа созылды, "
         "газ құбырына қосылу мәселесі шешілмей тұр, көпқабатты үйдің шатыры ағады, аялдама салу "
         "ұсынылады, емханадағы кезек, жер телімін ресімдеу, жұмыс орындары, спорт алаңы, "
         "Құлан Қордай Өрнек Үшарал Һәм ғимарат").split()
SETTLEMENTS = ["Қордай", "Сортөбе", "Масаншы", "Меркі", "Ақермен", "Бауыржан Момышұлы", "Құлан", "Төле би", "Үшарал"]
CATEGORIES = ["Жолдар", "Ауыз су", "Тұрғын үй", "Әлеуметтік қолдау", "Газдандыру", "Жер қатынастары"]
HOSTS = ["Нарбаев Б. Ж.", "Құлыбеков Н.", "Әбілқасымова Ғ. Т.", "Өтегенов Е."]
STATUSES = ["Тіркелді", "Қаралуда", "Жолданды", "Жауап берілді"]
TYPES = ["Өтініш", "Шағым", "Ұсыныс", "Сұрау сал."]


def make_rows(count, seed=7):
    rng = random.Random(seed)
    rows = []
    for i in range(1, count + 1):
        summary = ""
        while len(summary) < 150:
            summary += rng.choice(WORDS) + " "
        summary = summary[:150].rstrip()
        rows.append({
            "n": str(i), "number": f"KRD-2026-{i:05d}", "date": f"{(i % 28) + 1:02d}.03.2026",
            "applicant": f"Әбдіғаппаров {rng.choice('ӘҒҚҢӨҰҮҺІ')}. {rng.choice('АБЕЖ')}.",
            "settlement": rng.choice(SETTLEMENTS), "type": rng.choice(TYPES),
            "category": rng.choice(CATEGORIES), "summary": summary, "host": rng.choice(HOSTS),
            "status": rng.choice(STATUSES), "deadline": f"{(i % 28) + 1:02d}.04.2026",
        })
    return rows


def make_doc(rows):
    from appeals.reports.documents import PrintedDocument

    return PrintedDocument(
        lang="kk", title="Өтініштерді тіркеу журналы", org="Жамбыл облыстық филиалы",
        subtitle="01.03.2026 — 31.03.2026", filters=[("Филиал", "Қордай"), ("Кезең", "наурыз 2026")],
        generated_by="Сәрсенбаева Гүлнұр", generated_at="01.04.2026 09:00",
        signatures=["Қабылдау бөлмесінің меңгерушісі"], rows=rows,
        totals=[("Барлығы", str(len(rows)))],
    )


def pdf_text(data):
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


def check(data, rows, label):
    pages, texts = pdf_text(data)
    full = "\n".join(texts)
    numbers = re.findall(r"KRD-2026-\d{5}", full)
    assert numbers == [r["number"] for r in rows], f"{label}: rows missing or out of order"
    for index, text in enumerate(texts, start=1):
        # Kazakh puts the total first: "75 беттің 3-беті" (page 3 of 75).
        assert f"{pages} беттің {index}-беті" in text or f"Page {index} of {pages}" in text, \
            f"{label}: page {index} lacks 'page X of Y'"
    assert "ә" in full and "Қ" in full and "ұ" in full, f"{label}: Kazakh letters lost"
    return pages


def timed(fn, repeat=1):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return result, best


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class TreeMemory(threading.Thread):
    """Samples the resident memory of this process and all its descendants (the forkserver and
    its workers are not our direct children, so ru_maxrss of children would miss them)."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True)
        self.interval, self.peak_total, self.peak_self, self.running = interval, 0, 0, True

    @staticmethod
    def _tree(root):
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
        found, stack = [], [root]
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(children.get(pid, []))
        return found

    @staticmethod
    def _rss_kb(pid):
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self):
        me = os.getpid()
        while self.running:
            pids = self._tree(me)
            sizes = {pid: self._rss_kb(pid) for pid in pids}
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            self.peak_self = max(self.peak_self, sizes.get(me, 0))
            time.sleep(self.interval)


def child_10k(rows_count, workers):
    """Runs in a subprocess so its peak memory (and its workers') is measured on its own."""
    app = _app()
    monitor = TreeMemory()
    monitor.start()
    with app.test_request_context():
        from appeals.reports.documents import render_journal

        stats = {}
        rows = make_rows(rows_count)
        started = time.perf_counter()
        data = render_journal(make_doc(rows), workers=workers, stats=stats)
        elapsed = time.perf_counter() - started
    monitor.running = False
    monitor.join()
    pages, texts = pdf_text(data)
    full = "\n".join(texts)
    assert re.findall(r"KRD-2026-\d{5}", full) == [r["number"] for r in rows], "rows missing or out of order"
    for index in (1, pages // 2, pages):
        assert f"{pages} беттің {index}-беті" in texts[index - 1], f"page {index} lacks 'page X of Y'"
    print(json.dumps({"seconds": elapsed, "pages": pages, "self_mb": monitor.peak_self / 1024,
                      "tree_mb": monitor.peak_total / 1024, "bytes": len(data), **stats}))


def _app():
    from appeals import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-10k", action="store_true")
    parser.add_argument("--child-10k", type=int)
    args = parser.parse_args()
    if args.child_10k:
        child_10k(args.child_10k, args.workers)
        return

    app = _app()
    print(f"cpus={os.cpu_count()} workers={args.workers} rows={args.rows} (150-char Kazakh summaries, A4 landscape)")
    with app.test_request_context():
        from appeals.reports.documents import render_journal, render_journal_single
        from appeals.reports.pdf import _engine

        _engine()
        rows = make_rows(args.rows)
        doc = make_doc(rows)

        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        cpu0 = cpu_seconds()
        naive, naive_s = timed(lambda: render_journal_single(doc, NAIVE_CSS))
        naive_cpu = cpu_seconds() - cpu0
        naive_pages = check(naive, rows, "naive")
        print(f"naive single pass:      {naive_s:6.2f} s  {naive_pages} pages  (CPU {naive_cpu:.2f} s)")

        lean, lean_s = timed(lambda: render_journal_single(doc))
        lean_pages = check(lean, rows, "lean")
        print(f"lean single pass:       {lean_s:6.2f} s  {lean_pages} pages")

        stats = {}
        fast, fast_s = timed(lambda: render_journal(doc, workers=args.workers, stats=stats), repeat=2)
        fast_pages = check(fast, rows, "fast")
        print(f"fast (chunks x{stats['chunk_count']}, {args.workers} procs): {fast_s:6.2f} s  {fast_pages} pages "
              f"(planned {stats['pages_planned']}; html {stats['html_seconds']:.2f} s, "
              f"render {stats['render_seconds']:.2f} s, merge+stamp {stats['merge_seconds']:.2f} s; "
              f"CPU in workers for the row chunks {stats.get('render_cpu', 0):.2f} s)")

        cache_dir = TMP / "cache"
        render_journal(doc, workers=args.workers, cache_dir=cache_dir)
        cached_stats = {}
        _cached, cached_s = timed(lambda: render_journal(doc, workers=args.workers, cache_dir=cache_dir,
                                                         stats=cached_stats))
        print(f"fast, unchanged data (chunk cache): {cached_s:6.2f} s  ({cached_stats['cached_chunks']}/"
              f"{cached_stats['chunks']} chunks cached)")

        month_rows = make_rows(1218, seed=11)
        month_stats = {}
        month, month_s = timed(lambda: render_journal(make_doc(month_rows), workers=args.workers,
                                                      stats=month_stats), repeat=2)
        month_pages = check(month, month_rows, "month")
        print(f"briefing month (1218 rows): {month_s:6.2f} s  {month_pages} pages")

    if not args.skip_10k:
        out = subprocess.run(
            [sys.executable, __file__, "--child-10k", "10000", "--workers", str(args.workers)],
            capture_output=True, text=True, check=True, env=os.environ,
        ).stdout.strip().splitlines()[-1]
        big = json.loads(out)
        print(f"10,000 rows: {big['seconds']:.2f} s, {big['pages']} pages, {big['bytes'] / 1e6:.1f} MB PDF; peak RSS "
              f"of the app process {big['self_mb']:.0f} MB, of the whole process tree (app + forkserver + "
              f"{args.workers} workers, sampled every 50 ms) {big['tree_mb']:.0f} MB")

    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"ratio naive/fast = {naive_s / fast_s:.2f}")


if __name__ == "__main__":
    main()
