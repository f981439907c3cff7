"""The one file store (appeals/core/storage.py): both backends, transactions, and hostile uploads."""
import hashlib
import io
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from appeals.core import storage
from appeals.core.database import write_transaction
from appeals.core.storage import FileRefused, StoredFile
from appeals.core.timeutil import utcnow
from tests import hostile_files as hostile


@pytest.fixture(params=["database", "folder"])
def store(request, app, db, tmp_path, monkeypatch):
    """Each test of the store runs against both backends."""
    if request.param == "folder":
        monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    else:
        monkeypatch.setitem(app.config, "RESULT_STORE", "database")
    return request.param


def _files_on_disk(tmp_path):
    folder = tmp_path / "shared" / "files"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- The store ------------------------------------------------------------------------------


def test_put_get_delete_round_trip(store, db, tmp_path):
    data = b"%PDF-1.7 answer letter \x00\xff" * 100
    with write_transaction():
        key = storage.put(data, "application/pdf")
    row = storage.info(key)
    assert (row.content_type, row.size, row.sha256, row.location) == (
        "application/pdf", len(data), hashlib.sha256(data).hexdigest(), store)
    assert storage.get(key) == data and storage.verify(key)
    if store == "folder":
        on_disk = _files_on_disk(tmp_path)
        assert [p.read_bytes() for p in on_disk] == [data] and row.data is None
        assert oct(on_disk[0].stat().st_mode & 0o777) == "0o600"
    else:
        assert _files_on_disk(tmp_path) == []

    with write_transaction():
        assert storage.delete(key) is True
    assert storage.get(key) is None and storage.info(key) is None
    assert _files_on_disk(tmp_path) == []
    with write_transaction():
        assert storage.delete(key) is False


def test_keys_are_random_and_unguessable(store, db):
    with write_transaction():
        keys = {storage.put(b"same bytes", "application/pdf") for _ in range(5)}
    assert len(keys) == 5 and all(len(key) == 40 for key in keys)


def test_a_rolled_back_put_keeps_nothing_and_its_orphan_file_is_swept(store, db, tmp_path):
    with pytest.raises(RuntimeError), write_transaction():
        key = storage.put(b"\x89PNG not kept", "image/png")
        raise RuntimeError("the attachment's row failed")
    assert storage.get(key) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    if store == "folder":
        assert len(_files_on_disk(tmp_path)) == 1, "the bytes were written before the commit"
        assert storage.purge_orphans() == 0, "a fresh file may belong to a transaction still open"
        assert storage.purge_orphans(utcnow() + timedelta(days=30)) == 1
        assert _files_on_disk(tmp_path) == []


def test_a_delete_that_rolls_back_keeps_the_file(store, db, tmp_path):
    with write_transaction():
        key = storage.put(b"kept", "application/pdf")
    with pytest.raises(RuntimeError), write_transaction():
        storage.delete(key)
        raise RuntimeError("the appeal could not be changed")
    assert storage.get(key) == b"kept"
    # A later, unrelated commit must not unlink what the rolled-back delete had queued.
    with write_transaction():
        storage.put(b"other", "application/pdf")
    assert storage.get(key) == b"kept"


def test_the_orphan_sweep_spares_files_that_have_rows(store, db, tmp_path):
    with write_transaction():
        key = storage.put(b"has a row", "application/pdf")
    assert storage.purge_orphans(utcnow() + timedelta(days=30)) == 0
    assert storage.get(key) == b"has a row"


def test_a_file_stays_readable_after_the_setting_changes(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESULT_STORE", "database")
    with write_transaction():
        in_db = storage.put(b"in the database", "application/pdf")
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    with write_transaction():
        in_folder = storage.put(b"in the folder", "application/pdf")
    assert storage.get(in_db) == b"in the database" and storage.get(in_folder) == b"in the folder"


def test_verify_tells_a_damaged_or_missing_file(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    with write_transaction():
        key = storage.put(b"original", "application/pdf")
    (path,) = _files_on_disk(tmp_path)
    path.write_bytes(b"tampered")
    assert storage.verify(key) is False
    path.unlink()
    assert storage.get(key) is None and storage.verify(key) is False


def test_put_on_a_separate_connection(store, db):
    with db.engine.begin() as connection:
        key = storage.put(b"from a worker", "application/pdf", connection=connection)
    assert storage.get(key) == b"from a worker"


@pytest.mark.parametrize("key", ["../../etc/passwd", "AB" * 20, "", "a/b"])
def test_keys_never_leave_the_folder(app, db, tmp_path, monkeypatch, key):
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    with pytest.raises(ValueError):
        storage._path_for(key)


# --- Uploads: the type from the bytes -----------------------------------------------------------


@pytest.mark.parametrize("data, expected", [
    (hostile.photo_with_gps("JPEG"), "image/jpeg"),
    (hostile.photo_with_gps("PNG"), "image/png"),
    (hostile.photo_with_gps("WEBP"), "image/webp"),
    (hostile.simple_pdf(), "application/pdf"),
    (hostile.gif_image(), None),
    (hostile.SVG_WITH_SCRIPT, None),
    (hostile.HTML_NAMED_PDF, None),
    (hostile.WINDOWS_EXE, None),
    (b"", None),
])
def test_the_type_is_read_from_the_bytes(app_ctx, data, expected):
    assert storage.detect_type(data) == expected


@pytest.mark.parametrize("name, data, message", [
    ("gif", hostile.gif_image(), "Only photos and scans"),
    ("svg with a script", hostile.SVG_WITH_SCRIPT, "Only photos and scans"),
    ("html calling itself a pdf", hostile.HTML_NAMED_PDF, "Only photos and scans"),
    ("a program", hostile.WINDOWS_EXE, "Only photos and scans"),
    ("empty", b"", "empty"),
    ("truncated photo", hostile.truncated_jpeg(), "damaged"),
    ("decompression bomb", hostile.png_bomb(), "too large"),
    ("pdf with a script", hostile.simple_pdf(javascript="app.alert(1)"), "scripts or embedded files"),
    ("pdf with an embedded program", hostile.simple_pdf(embedded=True), "scripts or embedded files"),
    ("encrypted pdf", hostile.simple_pdf(password="secret"), "Password-protected"),
    ("pdf header only", b"%PDF-1.7\n%%EOF", "damaged"),
])
def test_hostile_uploads_are_refused_with_a_message(app_ctx, name, data, message):
    with pytest.raises(FileRefused) as refused:
        storage.clean_upload(data, field="files")
    assert message in refused.value.message, name
    assert refused.value.errors == {"files": [refused.value.message]}
    assert refused.value.kind == "invalid"


def test_size_caps(app, app_ctx, monkeypatch):
    pdf = hostile.simple_pdf(pages=3)
    with pytest.raises(FileRefused, match="larger than"):
        storage.clean_upload(pdf, max_bytes=len(pdf) - 1)
    assert storage.clean_upload(pdf, max_bytes=len(pdf)).pages == 3
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PDF_PAGES", 2)
    with pytest.raises(FileRefused, match="3 pages"):
        storage.clean_upload(pdf)
    with pytest.raises(FileRefused, match="larger than 1 MB"):
        storage.read_limited(io.BytesIO(b"x" * (1024 * 1024 + 1)), 1024 * 1024)
    assert storage.read_limited(io.BytesIO(b"x" * 10), 10) == b"x" * 10


def test_a_pdf_is_kept_byte_for_byte(app_ctx):
    pdf = hostile.simple_pdf(pages=2)
    clean = storage.clean_upload(pdf)
    assert (clean.data, clean.content_type, clean.extension, clean.pages) == (pdf, "application/pdf", "pdf", 2)


# --- Uploads: pictures lose their metadata, keep their orientation ------------------------------


def _metadata_of(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return dict(image.info), image.getexif(), image.size, image.format


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_photos_lose_gps_and_camera_data_and_stay_upright(app_ctx, fmt, content_type):
    original = hostile.photo_with_gps(fmt, size=(60, 40), orientation=6)
    assert _metadata_of(original)[1].get(0x8825), "the test photo carries GPS"

    clean = storage.clean_upload(original)

    assert clean.content_type == content_type
    info, exif, size, found = _metadata_of(clean.data)
    assert found == fmt
    assert len(exif) == 0, "no EXIF tag at all: GPS, make, model, orientation"
    assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(info)
    for marker in (b"PhoneMaker", b"Phone 15 Pro", b"Exif\x00\x00", b"GPSLatitude", b"Camera serial"):
        assert marker not in clean.data
    # Orientation 6 means "turn 90° clockwise to view": 60×40 stored is a 40×60 picture.
    assert size == (40, 60) == (clean.width, clean.height)
    with Image.open(io.BytesIO(clean.data)) as image:
        top, bottom = image.convert("RGB").getpixel((20, 5)), image.convert("RGB").getpixel((20, 55))
    # The red left half of the stored pixels is the top after turning clockwise.
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60


def test_png_text_chunks_go_and_transparency_stays(app_ctx):
    clean = storage.clean_upload(hostile.png_with_text_chunks())
    info, _exif, _size, _fmt = _metadata_of(clean.data)
    assert b"Abai street" not in clean.data and b"GPSLatitude" not in clean.data
    assert "Comment" not in info and "XML:com.adobe.xmp" not in info
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.mode == "RGBA" and image.getpixel((3, 3))[3] == 128


def test_a_polyglot_tail_is_dropped(app_ctx):
    clean = storage.clean_upload(hostile.jpeg_with_html_tail())
    assert b"<script>" not in clean.data and clean.content_type == "image/jpeg"


def test_large_pictures_are_scaled_down(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_IMAGE_MAX_SIDE", 50)
    clean = storage.clean_upload(hostile.photo_with_gps("PNG", size=(200, 100), orientation=1))
    assert (clean.width, clean.height) == (50, 25)


def test_the_store_folder_files_are_private(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    with write_transaction():
        storage.put(b"private", "application/pdf")
    (path,) = _files_on_disk(tmp_path)
    assert os.stat(path).st_mode & 0o077 == 0


def test_a_truncated_photo_is_refused_even_after_weasyprint_made_pillow_lenient(app_ctx, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what `import weasyprint` does
    with pytest.raises(FileRefused, match="damaged"):
        storage.clean_upload(hostile.truncated_jpeg())
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the process-wide setting is left as it was"
