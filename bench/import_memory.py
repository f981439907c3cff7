"""Peak memory of an import fed the hostile files of issue 13, finding 6 (target: under 200 MB each).

    .venv/bin/python bench/import_memory.py

Each file is imported in a fresh process (SQLite in a temporary folder, a small reference set, a
clerk), through the same path as the import page: read_import_file on the upload's stream, then
the import job run in that process, which validates every row and stores the row errors with the
job. The process's peak RSS (ru_maxrss) is printed per file, with the process's RSS once the app
is loaded (the baseline) and the outcome; the table comes last.
"""
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

FILES = {
    # The finding: "a 200 KB XLSX with one huge shared string takes a worker to about 950 MB".
    "huge-shared-string.xlsx": lambda h: h.huge_shared_string_xlsx(200_000_000),
    # "45 KB of XLSX with 300,000 rows costs 10 s of CPU".
    "300000-rows.xlsx": lambda h: h.many_rows_xlsx(300_000),
    # "a 19 MB CSV adds 1 GB".
    "19mb.csv": lambda h: h.large_csv(19_000_000),
    # The largest CSV the bounds let through (just under 4 million characters), every row wrong:
    # the whole way, reading, the job's stored input, validation of every row and the row errors.
    "largest-accepted.csv": lambda h: h.large_csv(7_900_000),
    # "a 201 KB XLSX whose shared string fills six columns took 43 s, 7.3 GB and grew SQLite to 843 MB".
    "shared-string-six-columns.xlsx": lambda h: h.shared_string_in_columns_xlsx(25_000, 10_000),
}


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_one(name):
    from tests import hostile_files

    content = FILES[name](hostile_files)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["QABYLDAU_INSTANCE"] = folder
        from appeals import create_app
        from appeals.core.extensions import db
        from config import TestConfig

        app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                          "IMPORT_INLINE_ROWS": 10 ** 9})
        with app.app_context(), app.test_request_context("/"):
            from flask_migrate import upgrade

            upgrade()
            from appeals.auth.services import create_user
            from appeals.reference.models import Category, District, Office, Region, Settlement
            from appeals.register import imports, validation

            region = Region(code="ZHA", name_kk="Жамбыл облысы", name_ru="Жамбылская область")
            district = District(region=region, code="KRD", name_kk="Қордай ауданы", name_ru="Кордайский район")
            office = Office(code="KRD", name_kk="Қордай филиалы", name_ru="Кордайский филиал", kind="territorial",
                            district=district, address="Қордай")
            db.session.add_all([region, district, office,
                                Settlement(district=district, name_kk="Қордай", name_ru="Кордай", kato="311001"),
                                Category(code="roads", name_kk="Жолдар", name_ru="Дороги", name_en="Roads")])
            db.session.commit()
            clerk = create_user("clerk", "correct-horse-battery", "clerk", ["KRD"])
            baseline = _rss_mb()
            started = time.perf_counter()
            try:
                rows = imports.read_import_file(name, io.BytesIO(content))
            except validation.AppealError as exc:
                outcome = f"refused: {exc.message}"
            else:
                job = imports.start_import(office, name, rows, clerk)
                db.session.expire_all()
                job = db.session.get(type(job), job.id)
                outcome = f"job {job.status}: {len(rows)} rows, {job.params.get('error_count', 0)} row errors"
            seconds = time.perf_counter() - started
            db_size = os.path.getsize(f"{folder}/bench.sqlite3") / 1024 / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name}\t{len(content) / 1024:.0f} KB\t{seconds:.2f} s\tbaseline {baseline:.0f} MB\tpeak {peak:.0f} MB"
          f"\tdatabase {db_size:.1f} MB\t{outcome}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        run_one(sys.argv[2])
        return
    results = []
    for name in FILES:
        output = subprocess.run([sys.executable, __file__, "--one", name], cwd=PROJECT, capture_output=True,
                                text=True, timeout=600)
        line = (output.stdout.strip().splitlines() or [f"{name}\tfailed: {output.stderr.strip()[-300:]}"])[-1]
        print(line, flush=True)
        results.append(line)
    print()
    print("file\tsize\ttime\tbaseline RSS\tpeak RSS\tSQLite file\toutcome")
    for line in results:
        print(line)
    peaks = [float(part.split()[1]) for line in results for part in line.split("\t") if part.startswith("peak ")]
    print(f"worst peak RSS: {max(peaks):.0f} MB (target < 200 MB)" if peaks else "no result")


if __name__ == "__main__":
    main()
