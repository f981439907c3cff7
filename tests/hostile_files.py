"""Hostile import files from issue 13, finding 6, built on the fly (tests use small sizes, bench/import_memory.py
the finding's own)."""
import io
import zipfile

from openpyxl import Workbook

HEADER = ["received_at", "channel", "applicant_name", "iin", "phone", "settlement", "appeal_type", "category",
          "summary", "text"]
ROW = ["15.01.2024 10:30", "door_to_door", "Әбілқасымов Ерлан", "", "", "Қордай", "statement", "roads",
       "Жолды жөндеу", ""]


def _workbook_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_members(xlsx, replacements):
    """The XLSX with some members' contents written by callables (chunk by chunk, never whole in memory)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename in replacements:
                continue
            data = source.read(info.filename)
            if info.filename == "[Content_Types].xml" and b"sharedStrings" not in data:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if info.filename == "xl/_rels/workbook.xml.rels" and b"sharedStrings" not in data:
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            target.writestr(info.filename, data)
        for name, write in replacements.items():
            with target.open(name, "w", force_zip64=True) as member:
                write(member)
    return out.getvalue()


def _shared_strings(strings, huge_index=None, huge_chars=0):
    def write(member):
        member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                     f'spreadsheetml/2006/main" count="{len(strings) + 1}" uniqueCount="{len(strings) + 1}">'.encode())
        for text in strings:
            member.write(f"<si><t>{text}</t></si>".encode())
        if huge_chars:
            member.write(b"<si><t>")
            chunk = b"A" * (1024 * 1024)
            left = huge_chars
            while left > 0:
                member.write(chunk[:left])
                left -= len(chunk)
            member.write(b"</t></si>")
        member.write(b"</sst>")
    return write


def _sheet(rows):
    """rows: lists of cells, each ('s', index) for a shared string or ('t', text) inline."""
    def write(member):
        member.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main"><sheetData>')
        for number, row in enumerate(rows, start=1):
            cells = []
            for column, (kind, value) in enumerate(row):
                ref = f"{chr(65 + column)}{number}"
                if kind == "s":
                    cells.append(f'<c r="{ref}" t="s"><v>{value}</v></c>')
                else:
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            member.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())
        member.write(b"</sheetData></worksheet>")
    return write


def _base():
    # openpyxl writes every text cell as a shared string: the header's are 0..9.
    return _workbook_bytes([HEADER])


def huge_shared_string_xlsx(chars):
    """One shared string of `chars` characters used by a row's summary (the finding: 200 KB, ~950 MB read)."""
    header = [("s", i) for i in range(len(HEADER))]
    row = [("t", value) for value in ROW]
    row[HEADER.index("summary")] = ("s", len(HEADER))
    return _replace_members(_base(), {
        "xl/sharedStrings.xml": _shared_strings(HEADER, huge_chars=chars),
        "xl/worksheets/sheet1.xml": _sheet([header, row]),
    })


def many_rows_xlsx(rows):
    """`rows` rows of one repeated shared string each (the finding: 300,000 rows in 45 KB)."""

    def sheet(member):
        member.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main"><sheetData>')
        member.write(b'<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>'
                                              for i in range(len(HEADER))).encode() + b"</row>")
        # Rows without references compress about 300 times: 300,000 of them fit in some 45 KB.
        member.write(b'<row><c t="s"><v>0</v></c></row>' * rows)
        member.write(b"</sheetData></worksheet>")

    return _replace_members(_base(), {"xl/sharedStrings.xml": _shared_strings(HEADER), "xl/worksheets/sheet1.xml": sheet})


def shared_string_in_columns_xlsx(chars, rows, columns=("applicant_name", "phone", "settlement", "category",
                                                         "summary", "text")):
    """One long shared string filling six columns of every row (the finding: 201 KB, 43 s, 7.3 GB)."""
    header = [("s", i) for i in range(len(HEADER))]
    body = []
    for _ in range(rows):
        row = [("t", value) for value in ROW]
        for column in columns:
            row[HEADER.index(column)] = ("s", len(HEADER))
        body.append(row)
    return _replace_members(_base(), {
        "xl/sharedStrings.xml": _shared_strings(HEADER, huge_chars=chars),
        "xl/worksheets/sheet1.xml": _sheet([header, *body]),
    })


def large_csv(target_bytes, cell_chars=2000):
    """A CSV of valid-looking rows whose summary and text are long (the finding: 19 MB, +1 GB)."""
    lines = [";".join(HEADER)]
    size = len(lines[0])
    long_text = "Ж" * cell_chars
    while size < target_bytes:
        row = list(ROW)
        row[HEADER.index("summary")] = long_text
        row[HEADER.index("text")] = long_text
        line = ";".join(row)
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines).encode()


# --- Uploaded pictures and documents (appeals/core/storage.py) -----------------------------------

# 43°14'N 76°53'E (Almaty), as a phone writes it: what must never leave the citizen's photo.
GPS = {1: "N", 2: (43.0, 14.0, 30.0), 3: "E", 4: (76.0, 53.0, 10.0)}


def photo_with_gps(fmt="JPEG", size=(60, 40), orientation=6, comment=b"Camera serial 12345"):
    """A photo as a phone saves it: EXIF with GPS, camera make, an orientation tag (6: turn 90°
    clockwise to view), and for JPEG a comment; the left half red, the right half blue."""
    from PIL import Image

    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"          # Make
    exif[0x0110] = "Phone 15 Pro"        # Model
    exif[0x0112] = orientation           # Orientation
    exif[0x8825] = GPS                   # GPSInfo
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        extra["comment"] = comment
    if fmt == "WEBP":
        extra["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>43,14.5N</exif:GPSLatitude></x:xmpmeta>'
    image.save(out, fmt, **extra)
    return out.getvalue()


def png_with_text_chunks():
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "home: Abai street 10, Taraz")
    info.add_itxt("XML:com.adobe.xmp", "<exif:GPSLatitude>43,14.5N</exif:GPSLatitude>")
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (10, 200, 10, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def png_bomb(side=30000):
    """A PNG of a few kilobytes that declares side × side pixels (900 megapixels, ~2.7 GB decoded)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * side
    body = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def truncated_jpeg():
    data = photo_with_gps(size=(400, 300))
    return data[: len(data) // 2]


def jpeg_with_html_tail():
    """A valid JPEG with an HTML page appended (a polyglot a browser might sniff as a page)."""
    return photo_with_gps() + b"<html><script>alert(document.cookie)</script></html>"


def gif_image():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, "GIF")
    return out.getvalue()


SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_NAMED_PDF = b"<html><body>%PDF-1.7 not really</body></html>"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def simple_pdf(pages=1, javascript=None, embedded=False, password=None):
    """A PDF of blank pages; with an OpenAction script, an embedded file or a password if asked."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(javascript)})
    if embedded:
        writer.add_attachment("invoice.exe", WINDOWS_EXE)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
