"""One store for the files the app keeps: attachments, citizens' photos, answer letters.

    key = storage.put(data, "application/pdf")     # in the caller's transaction
    data = storage.get(key)                        # None once deleted
    storage.delete(key)

Where the bytes live is the RESULT_STORE setting, the same as for finished jobs' files:
"database" (the default: the `stored_files` row holds them, so every app server and every backup
has them) or a folder every app server shares (`<folder>/files/ab/<key>`; the row then holds only
the metadata). Either way every file has a row with its type, size and SHA-256, so a backup lists
all files and `verify()` can tell a damaged one. A file keeps the backend it was written to: changing
the setting later does not strand older files.

Transactions: `put` and `delete` join the caller's unit of work (write_transaction), so an
attachment and its file commit together or not at all. In a folder the bytes are written (to a
temporary name, then renamed) before the row commits; a rollback leaves a file without a row,
which `purge_orphans` (the cleanup duty) deletes after an hour. A deleted file's bytes are
unlinked only after the deleting transaction commits.

Uploads are checked here too, before they are stored (`clean_upload`): the type is read from the
bytes, never from the name or the browser's word (JPEG, PNG, WebP and PDF only); sizes are capped;
images are decoded and drawn again into a fresh image, so EXIF (a phone photo's GPS position,
camera serial, time), XMP, IPTC, comments and text chunks never reach the store, with the
orientation applied first so the picture stays upright. A PDF must start with its signature, open
with pypdf, not be encrypted and carry no scripts, launch actions or embedded files.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow

log = logging.getLogger(__name__)
# pypdf warns about every oddity of a scanner's PDF; the checks below decide what is refused.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# The only types ever stored from an upload, with the extension a download gets.
UPLOAD_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
_PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
# A decoded image is width × height × 4 bytes in memory: 40 megapixels is some 160 MB, a 12 MP phone
# photo 48 MB. A 100 KB PNG can declare 30,000 × 30,000 pixels; it is refused before it is decoded.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
# Kept images are scaled down to this longest side (an A4 scan at 350 dpi, a 16 MP photo).
DEFAULT_IMAGE_MAX_SIDE = 4096
DEFAULT_MAX_PDF_PAGES = 300
ORPHAN_GRACE = timedelta(hours=1)
LOCATIONS = ("database", "folder")
KEY_BYTES = 20


class StoredFile(db.Model):
    """A kept file: its metadata always, its bytes too when it lives in the database."""

    __tablename__ = "stored_files"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # "database": `data` holds the bytes; "folder": the RESULT_STORE folder does.
    location: Mapped[str] = mapped_column(sa.String(16))
    data: Mapped[Optional[bytes]] = deferred(mapped_column(sa.LargeBinary, nullable=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileRefused(DomainError):
    """An upload that will not be stored: wrong type, too large, damaged or dangerous."""

    kind = "invalid"


@dataclass(frozen=True)
class CleanFile:
    """An upload ready to store: its (re-encoded) bytes and what was read from them."""

    data: bytes
    content_type: str
    extension: str
    width: int = 0
    height: int = 0
    pages: int = 0

    @property
    def size(self) -> int:
        return len(self.data)


# --- Settings ------------------------------------------------------------------------------


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name) or default)


def max_file_bytes() -> int:
    return _setting("UPLOAD_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)


def _folder_setting() -> Optional[Path]:
    store = current_app.config.get("RESULT_STORE", "database") or "database"
    return None if store == "database" else Path(store)


def _files_folder(create: bool = False) -> Optional[Path]:
    base = _folder_setting()
    if base is None:
        return None
    folder = base / "files"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path_for(key: str) -> Path:
    folder = _files_folder()
    if folder is None:
        raise RuntimeError("RESULT_STORE is 'database', but a file is kept in a folder; set RESULT_STORE to that folder")
    # Keys are ours (hex), never a user's text: no path can escape the folder.
    if not is_key(key):
        raise ValueError("not a storage key")
    return folder / key[:2] / key


def is_key(key: object) -> bool:
    """Whether `key` has the shape of a key put() gives (lowercase hex)."""
    return isinstance(key, str) and 8 <= len(key) <= 64 and all(c in "0123456789abcdef" for c in key)


# --- Type detection and cleaning of uploads ------------------------------------------------


def detect_type(data: bytes) -> Optional[str]:
    """The type the bytes themselves say (one of UPLOAD_TYPES), or None: names and headers lie."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS)) as image:
                return _PIL_FORMATS.get(image.format or "")
    except Image.DecompressionBombError:
        # Pillow read the header and refused the size: the type is the signature's, the size is refused later.
        return _signature_type(data)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _signature_type(data: bytes) -> Optional[str]:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_limited(stream: IO[bytes], limit: Optional[int] = None) -> bytes:
    """Read an uploaded stream, but never more than `limit` + 1 bytes; FileRefused when larger."""
    limit = limit or max_file_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(_too_large(limit))
    return data


def _too_large(limit: int) -> str:
    return _("The file is larger than %(size)s MB.", size=_megabytes(limit))


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def clean_upload(data: bytes, *, max_bytes: Optional[int] = None, allowed: tuple[str, ...] = tuple(UPLOAD_TYPES),
                 field: Optional[str] = None) -> CleanFile:
    """Check an upload and make it safe to keep: FileRefused (translated, on `field`) or a CleanFile.

    Images come back re-encoded without any metadata; PDFs unchanged after their checks.
    """
    limit = max_bytes or max_file_bytes()
    if not data:
        raise FileRefused(_("The file is empty."), field=field)
    if len(data) > limit:
        raise FileRefused(_too_large(limit), field=field)
    content_type = detect_type(data)
    if content_type is None or content_type not in allowed:
        raise FileRefused(_("Only photos and scans (JPEG, PNG, WebP) and PDF documents can be attached."), field=field)
    try:
        if content_type == "application/pdf":
            clean = _check_pdf(data)
        else:
            clean = _reencode_image(data, content_type)
    except FileRefused as refused:
        raise FileRefused(refused.message, field=field) from None
    if clean.size > limit:
        raise FileRefused(_too_large(limit), field=field)
    return clean


def _damaged() -> FileRefused:
    return FileRefused(_("The file is damaged or incomplete and cannot be read."))


def _reencode_image(data: bytes, content_type: str) -> CleanFile:
    from PIL import Image, ImageOps

    max_pixels = _setting("UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)
    max_side = _setting("UPLOAD_IMAGE_MAX_SIDE", DEFAULT_IMAGE_MAX_SIDE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS)) as source:
                width, height = source.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    raise FileRefused(_("The picture is too large (%(width)s × %(height)s pixels); at most %(limit)s "
                                        "megapixels.", width=width, height=height, limit=max_pixels // 1_000_000))
                # An animation keeps its first frame only.
                source.seek(0)
                _load_whole(source)
                upright = ImageOps.exif_transpose(source)
                upright = _to_srgb(upright, source.info.get("icc_profile"))
                keep_alpha = content_type != "image/jpeg" and (
                    upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info))
                if keep_alpha:
                    mode = "RGBA"
                elif upright.mode in ("1", "L", "I;16", "I"):
                    mode = "L"
                else:
                    mode = "RGB"
                converted = upright.convert(mode) if upright.mode != mode else upright
                if max(converted.size) > max_side:
                    converted = converted.copy()
                    converted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                # Drawn into a fresh image from the pixels alone: no info, EXIF, XMP or text chunk
                # of the upload can ride along into the encoder.
                fresh = Image.frombytes(converted.mode, converted.size, converted.tobytes())
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        raise FileRefused(_("The picture is too large; at most %(limit)s megapixels.",
                            limit=max_pixels // 1_000_000)) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise _damaged() from None
    out = io.BytesIO()
    if content_type == "image/jpeg":
        fresh.save(out, "JPEG", quality=88)
    elif content_type == "image/png":
        fresh.save(out, "PNG", compress_level=6)
    else:
        fresh.save(out, "WEBP", quality=85, method=4)
    return CleanFile(out.getvalue(), content_type, UPLOAD_TYPES[content_type], fresh.width, fresh.height)


_STRICT_LOADING = threading.Lock()


def _load_whole(image: Any) -> None:
    """Decode every pixel, refusing a truncated file: WeasyPrint sets Pillow's process-wide
    LOAD_TRUNCATED_IMAGES when it is imported, which would pad a cut-off photo with grey instead."""
    from PIL import ImageFile

    with _STRICT_LOADING:
        lenient = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _to_srgb(image: Any, icc_profile: Optional[bytes]) -> Any:
    """Apply an embedded colour profile (a phone's Display P3), so dropping it keeps the colours."""
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except Exception:  # noqa: BLE001 - a broken profile: the pixels as they are
        return image


# Names in a PDF's catalog, pages or annotations that run something when it is opened or clicked.
_PDF_ACTIVE = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA",
               "/SubmitForm", "/ImportData")


def _check_pdf(data: bytes) -> CleanFile:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    max_pages = _setting("UPLOAD_MAX_PDF_PAGES", DEFAULT_MAX_PDF_PAGES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise FileRefused(_("Password-protected PDF documents cannot be attached; please attach one "
                                    "without a password."))
            pages = len(reader.pages)
            if pages == 0:
                raise _damaged()
            if pages > max_pages:
                raise FileRefused(_("The document has %(pages)s pages; at most %(limit)s can be attached.",
                                    pages=pages, limit=max_pages))
            if _pdf_has_active_content(reader):
                raise FileRefused(_("The PDF document contains scripts or embedded files and cannot be attached; "
                                    "please print it to a new PDF or scan it."))
    except FileRefused:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, EOFError):
        raise _damaged() from None
    return CleanFile(data, "application/pdf", "pdf", pages=pages)


def _pdf_has_active_content(reader: Any) -> bool:
    """Scripts, launch actions, forms that submit, embedded files: in the catalog, pages and annotations."""
    budget = [20000]
    seen: set[int] = set()

    def walk(value: Any, depth: int) -> bool:
        budget[0] -= 1
        if budget[0] < 0 or depth > 40:
            # Deeper or larger than any letter or scan: judged dangerous rather than read forever.
            return True
        reference = getattr(value, "indirect_reference", None)
        if reference is not None:
            marker = (reference.idnum << 16) + reference.generation
            if marker in seen:
                return False
            seen.add(marker)
        try:
            value = value.get_object()
        except AttributeError:
            pass
        if isinstance(value, dict):
            for name, item in value.items():
                if name in _PDF_ACTIVE or (name == "/S" and str(item) in _PDF_ACTIVE):
                    return True
                # Pages' parents and content streams hold no actions; they only make the walk long.
                if name in ("/Parent", "/Contents", "/Font", "/ColorSpace"):
                    continue
                if walk(item, depth + 1):
                    return True
        elif isinstance(value, list):
            for item in value:
                if walk(item, depth + 1):
                    return True
        return False

    return walk(reader.trailer["/Root"], 0)


# --- The store ---------------------------------------------------------------------------


def new_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def put(data: bytes, content_type: str, *, key: Optional[str] = None, connection: Optional[sa.Connection] = None,
        created_at: Optional[datetime] = None) -> str:
    """Keep `data` and return its key. The row joins the caller's transaction (or `connection`'s).

    `key` is given only by a restore (import-data), to keep the key the backup had.
    """
    key = key or new_key()
    if not is_key(key):
        raise ValueError("not a storage key")
    folder = _files_folder(create=True)
    values: dict[str, Any] = {
        "key": key, "content_type": content_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "location": "database" if folder is None else "folder", "data": data if folder is None else None,
        "created_at": created_at or utcnow(),
    }
    if folder is not None:
        _write_file(_path_for(key), data)
    statement = sa.insert(StoredFile.__table__).values(**values)
    if connection is not None:
        connection.execute(statement)
    else:
        db.session.execute(statement)
    return key


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    # Other servers never see a half-written file.
    os.replace(temporary, path)


def info(key: str) -> Optional[StoredFile]:
    """The file's row (type, size, digest, where it lives), without its bytes; None when unknown."""
    return db.session.scalars(sa.select(StoredFile).where(StoredFile.key == key)
                              .execution_options(populate_existing=True)).first()


def get(key: str) -> Optional[bytes]:
    """The file's bytes from whichever backend holds them; None when there is no such file."""
    row = db.session.execute(sa.select(StoredFile.location, StoredFile.data).where(StoredFile.key == key)).first()
    if row is None:
        return None
    location, data = row
    if location == "database":
        return data
    try:
        return _path_for(key).read_bytes()
    except FileNotFoundError:
        log.error("stored file %s is missing from the folder", key)
        return None


def verify(key: str) -> bool:
    """Whether the file's bytes are there and match the digest recorded when it was kept."""
    row = info(key)
    data = get(key)
    return row is not None and data is not None and hashlib.sha256(data).hexdigest() == row.sha256


def delete(key: str, *, connection: Optional[sa.Connection] = None) -> bool:
    """Forget the file in the caller's transaction; a folder's bytes go once that commits."""
    table = StoredFile.__table__
    executor: Any = connection if connection is not None else db.session
    location = executor.execute(sa.select(table.c.location).where(table.c.key == key)).scalar()
    if location is None:
        return False
    executor.execute(sa.delete(table).where(table.c.key == key))
    if location == "folder":
        path = _path_for(key)
        if connection is not None:
            _unlink_when_committed(connection, path)
        else:
            db.session().info.setdefault(_PENDING_UNLINKS, []).append(path)
    return True


_PENDING_UNLINKS = "storage_pending_unlinks"


@event.listens_for(Session, "after_commit")
def _unlink_after_commit(session: Session) -> None:
    for path in session.info.pop(_PENDING_UNLINKS, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _keep_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_UNLINKS, None)


def _unlink_when_committed(connection: sa.Connection, path: Path) -> None:
    def unlink(_connection: Any) -> None:
        path.unlink(missing_ok=True)

    event.listen(connection, "commit", unlink, once=True)


def purge_orphans(now: Optional[datetime] = None) -> int:
    """Delete folder files that no row names, once older than an hour (a transaction that rolled
    back after writing its file, or a crash in between); returns how many."""
    folder = _files_folder()
    if folder is None or not folder.is_dir():
        return 0
    # Files carry the machine's real time, whatever clock the app reads.
    moment = now.replace(tzinfo=timezone.utc).timestamp() if now is not None else time.time()
    cutoff = moment - ORPHAN_GRACE.total_seconds()
    removed = 0
    for bucket in folder.iterdir():
        if not bucket.is_dir():
            continue
        candidates = []
        for path in bucket.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    candidates.append(path)
            except FileNotFoundError:
                continue
        if not candidates:
            continue
        names = [path.name for path in candidates if not path.name.startswith(".")]
        known = set(db.session.scalars(sa.select(StoredFile.key).where(StoredFile.key.in_(names)))) if names else set()
        db.session.rollback()
        for path in candidates:
            if path.name not in known:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
