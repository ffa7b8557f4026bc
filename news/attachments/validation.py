"""Document uploads: a file is accepted only when its content (not its name) is a whole PDF,
OpenDocument (ODT, ODS, ODP) or Office Open XML (DOCX, XLSX) file within the size limits.
Encrypted or damaged PDFs, ZIP bombs, programs and empty files are refused with a message
that says what was wrong."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from news.images import _size_of

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ODF_FORMATS = {CONTENT_TYPES[f]: f for f in ("odt", "ods", "odp")}
# Office Open XML: the part that makes a package a text document or a workbook.
OOXML_MAIN_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx"}
# An OLE compound file: Word and Excel before 2007, and what they write for a file saved with
# a password (the encrypted package inside one).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PROGRAM_SIGNATURES = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


@dataclass(frozen=True)
class DocumentInfo:
    format: str  # the file extension of its real format: pdf, odt, ods, odp, docx, xlsx
    size: int
    pages: int | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


NOT_A_DOCUMENT = _(
    "This file is not a document in an allowed format (PDF, ODT, ODS, ODP, DOCX or XLSX)."
)


def inspect_document(upload) -> DocumentInfo:
    """The real format, size and (for a PDF) page count of `upload`; raise ValidationError
    unless it is a non-empty, whole, unencrypted document of an allowed format within
    DOCUMENT_MAX_BYTES (and, for office files, DOCUMENT_MAX_UNPACKED_BYTES and
    DOCUMENT_MAX_COMPRESSION_RATIO)."""
    size = _size_of(upload)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("The document is too large (%(size)s); the limit is %(limit)s."),
            code="too_large",
            params={
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES),
            },
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return DocumentInfo("pdf", size, _pdf_pages(upload))
        if head.startswith(b"PK\x03\x04"):
            return DocumentInfo(_office_format(upload, size), size)
    finally:
        upload.seek(0)
    if head.startswith(OLE_SIGNATURE):
        raise ValidationError(
            _(
                "This is an office file in an old format (DOC, XLS) or protected with a "
                "password; save it as DOCX, XLSX or ODF without a password and attach that."
            ),
            code="old_or_encrypted_office_file",
        )
    if head.startswith(PROGRAM_SIGNATURES):
        raise ValidationError(
            _("This file is a program, not a document; it cannot be attached."), code="program"
        )
    raise ValidationError(NOT_A_DOCUMENT, code="invalid_document")


def _pdf_pages(upload) -> int:
    damaged = ValidationError(
        _("The PDF file is damaged or incomplete; please export it again."), code="bad_pdf"
    )
    # Imported on the first upload, not by every web worker at start-up.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(upload, strict=True)
        if reader.is_encrypted:
            raise ValidationError(
                _("The PDF file is encrypted or password-protected; attach an unprotected copy."),
                code="encrypted_pdf",
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise damaged from error
    if pages < 1:
        raise damaged
    return pages


def _is_macro(name: str) -> bool:
    """A package part that holds macros: VBA in an OOXML file (a DOCM or XLSM renamed), Basic
    or scripts in an ODF one."""
    return posixpath.basename(name).lower() == "vbaproject.bin" or name.startswith(
        ("Basic/", "Scripts/")
    )


def _office_format(upload, size: int) -> str:
    encrypted = ValidationError(
        _("The office file is encrypted or password-protected; attach an unprotected copy."),
        code="encrypted_office_file",
    )
    try:
        with zipfile.ZipFile(upload) as package:
            members = package.infolist()
            unpacked = sum(member.file_size for member in members)
            packed = sum(member.compress_size for member in members) or 1
            if (
                unpacked > settings.DOCUMENT_MAX_UNPACKED_BYTES
                or unpacked / packed > settings.DOCUMENT_MAX_COMPRESSION_RATIO
            ):
                raise ValidationError(
                    _(
                        "The office file unpacks to %(unpacked)s, far more than it should "
                        "(a ZIP bomb?); it was refused."
                    ),
                    code="zip_bomb",
                    params={"unpacked": filesizeformat(unpacked)},
                )
            if any(member.flag_bits & 0x1 for member in members):  # ZIP encryption
                raise encrypted
            names = {member.filename for member in members}
            if any(_is_macro(name) for name in names):
                raise ValidationError(
                    _(
                        "The office file contains macros; save it as a document without "
                        "macros (DOCX, XLSX, ODT, ODS, ODP) and attach that."
                    ),
                    code="office_macros",
                )
            if "mimetype" in names:
                mimetype = package.read("mimetype").decode("ascii", "replace").strip()
                found = ODF_FORMATS.get(mimetype)
                manifest = "META-INF/manifest.xml"  # ODF's own encryption is declared there
                if found and manifest in names and b"encryption-data" in package.read(manifest):
                    raise encrypted
            elif "[Content_Types].xml" in names:
                found = next((f for part, f in OOXML_MAIN_PARTS.items() if part in names), None)
            else:
                found = None
            if found is None:
                raise ValidationError(NOT_A_DOCUMENT, code="invalid_document")
            # Within the limits above, read every member once: a damaged one fails its CRC.
            if package.testzip() is not None:
                raise zipfile.BadZipFile("CRC mismatch")
            return found
    except ValidationError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,  # zipfile's answer to a compression method it cannot read
    ) as error:
        raise ValidationError(
            _("The office file is damaged or incomplete; please save it again."),
            code="bad_office_file",
        ) from error
