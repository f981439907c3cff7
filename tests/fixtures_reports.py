"""Fixtures for the reports tests (loaded by tests/conftest.py)."""
import datetime as dt
import io
import shutil
import subprocess

import pytest

KAZAKH_LETTERS = "ә ғ қ ң ө ұ ү һ і"
SUMMARIES = [
    "Ауылдағы көше жарығы жоқ, қараңғыда балалар мектепке қауіппен барады (ә ғ қ ң ө ұ ү һ і)",
    "Ауыз су құбыры ескірген, жазда су үзіліп тұрады; жөндеуді сұраймыз",
    "Көпқабатты үйдің шатыры ағады, әкімдікке бірнеше рет жүгіндік",
    "Мектепке дейінгі балалар мекемесінде орын жетіспейді",
]


def make_appeals(reference, count, start=None, office=None, host=None, statuses=("registered", "in_review")):
    """Appeals inserted directly (reports read them; the register's rules are tested there)."""
    from appeals.core.extensions import db
    from appeals.register.models import Appeal

    office = office or reference.kordai
    start = start or dt.datetime(2026, 3, 2, 10, 0)
    appeals = []
    for i in range(1, count + 1):
        received = start + dt.timedelta(hours=7 * i)
        appeals.append(Appeal(
            office_id=office.id, number=f"{office.code}-{received.year}-{i:05d}", year=received.year, seq=i,
            received_at=received, channel=("session", "phone", "letter")[i % 3],
            host_id=host.id if host else None, applicant_kind="individual",
            applicant_name=f"Әбілқасымов Нұрлан {i}", iin=f"9001013{i:05d}", phone=f"+7701{i:07d}",
            address="Қордай, Жібек жолы 1", settlement_id=reference.settlements[i % 2].id,
            appeal_type=("statement", "complaint", "proposal")[i % 3],
            category_id=reference.categories[i % 3].id, summary=SUMMARIES[i % len(SUMMARIES)],
            status=statuses[i % len(statuses)], due_date=received.date() + dt.timedelta(days=21),
            original_due_date=received.date() + dt.timedelta(days=21),
        ))
    db.session.add_all(appeals)
    db.session.commit()
    return appeals


def pdf_pages_text(data):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def render_first_page_png(data, tmp_path):
    """Page 1 as PNG through poppler, as CI does; returns the PNG bytes."""
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) must be installed"
    source = tmp_path / "doc.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(tmp_path / "page1")], check=True, timeout=60)
    return (tmp_path / "page1.png").read_bytes()


@pytest.fixture
def report_data(reference, users):
    """Forty appeals at the Kordai office in March 2026 and a host with one of them."""
    from appeals.core.extensions import db
    from appeals.schedules.models import Host

    host = Host(full_name="Құлыбеков Нұрлан", position="Депутат", kind="deputy", office_id=reference.kordai.id,
                user_id=users.host.id)
    db.session.add(host)
    db.session.commit()
    appeals = make_appeals(reference, 40, host=host)

    class Data:
        pass

    data = Data()
    data.appeals, data.host = appeals, host
    return data
