"""Ways to spoil a signed PDF, for scenarios (documents learners must reject) and tests.

Each function takes the bytes of a signed PDF and returns the spoiled bytes; none of them can
make a valid signature, which is the point.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader


def change_byte(pdf: bytes) -> bytes:
    """Change one letter inside the signed bytes (in the document's /Producer entry), keeping
    the length, so the file still opens but the hash no longer matches."""
    marker = b"ReportLab PDF Library"
    at = pdf.find(marker)
    if at < 0:
        raise ValueError("no /Producer marker to change")
    pos = at + len(marker) - 1
    return pdf[:pos] + (b"z" if pdf[pos : pos + 1] != b"z" else b"x") + pdf[pos + 1 :]


def _incremental(pdf: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add_page(pdf: bytes) -> bytes:
    """Append a page with new text in an incremental update."""
    w = _incremental(pdf)
    stream = generic.StreamObject(
        stream_data=b"BT /F1 14 Tf 72 760 Td (Trang them sau khi ky) Tj ET"
    )
    font = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Font"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
            generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
        }
    )
    page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/MediaBox"): generic.ArrayObject(
                [
                    generic.NumberObject(0),
                    generic.NumberObject(0),
                    generic.NumberObject(595),
                    generic.NumberObject(842),
                ]
            ),
            generic.pdf_name("/Contents"): w.add_object(stream),
            generic.pdf_name("/Resources"): generic.DictionaryObject(
                {
                    generic.pdf_name("/Font"): generic.DictionaryObject(
                        {generic.pdf_name("/F1"): w.add_object(font)}
                    )
                }
            ),
        }
    )
    w.insert_page(page)
    return _written(w)


def add_content(pdf: bytes, page: int = 0) -> bytes:
    """Paint over part of a page (a white box and new text) in an incremental update."""
    w = _incremental(pdf)
    data = b"q 1 1 1 rg 80 600 430 60 re f Q BT /Helvetica 1 Tf ET"
    ref = w.add_object(generic.StreamObject(stream_data=data))
    w.add_stream_to_page(page, ref)
    return _written(w)


def truncate_to_signature(pdf: bytes, index: int) -> bytes:
    """Cut the file back to the revision signed by signature `index` (0-based), dropping the
    signatures after it, e.g. removing the organisation signature."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sig = reader.embedded_signatures[index]
    start, length = sig.byte_range[2], sig.byte_range[3]
    return pdf[: start + length]


def strip_signatures(pdf: bytes) -> bytes:
    """Rewrite the document without any signature (pages only, annotations dropped)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        if "/Annots" in page:
            del page["/Annots"]
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
