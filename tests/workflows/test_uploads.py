"""Citizens' files (threat T10): sniffed not trusted, private, scanned or refused, never half-kept."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import socket
import socketserver
import struct
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone

from workflows import uploads
from workflows.models import DefinitionVersion, Draft, Program, Upload
from workflows.uploads import UploadRefused, UploadRules

MB = 1024 * 1024

# Real, minimal beginnings of each format (what the first bytes of such a file look like).
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
TIFF_LE = b"II*\x00\x08\x00\x00\x00\x00\x00"
TIFF_BE = b"MM\x00*\x00\x00\x00\x08\x00\x00"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
HEIX = b"\x00\x00\x00\x18ftypheix\x00\x00\x00\x00mif1heix"
MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic"

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode."
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 24
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'
TEXT = b"Dear caseworker, please find my bill attached.\n"
WAV = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00"
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"

ALL_TYPES = tuple(uploads.KNOWN_TYPES)
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Files go to a private folder of this test; no scanner unless a test starts one."""
    settings.MEDIA_ROOT = tmp_path / "private-files"
    settings.CLAMAV_ADDRESS = ""
    settings.CLAMAV_TIMEOUT = 2.0
    settings.CIVICFLOW_UPLOAD_MAX_BYTES = 10 * MB
    settings.PRODUCTION = False
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def draft(db: None) -> Draft:
    """A draft of a minimal program; uploads do not depend on what the program's files say."""
    now = timezone.now()
    program = Program.objects.create(
        slug="library-card", title={"en": "Library card"}, agency="Library", reference_prefix="LC"
    )
    version = DefinitionVersion.objects.create(program=program, content_hash="0" * 64, files={}, published_at=now)
    return Draft.objects.create(
        program=program,
        version=version,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=30),
    )


def posted(name: str, content: bytes, declared_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """A file as Django hands it over from a form post; the declared type is the browser's claim."""
    return SimpleUploadedFile(name, content, content_type=declared_type)


def on_disk(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def refusal(excinfo: pytest.ExceptionInfo[UploadRefused]) -> tuple[str, str]:
    return excinfo.value.code, excinfo.value.message


# ------------------------------------------------------------------ sniffing


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (WEBP, "image/webp"),
        (TIFF_LE, "image/tiff"),
        (TIFF_BE, "image/tiff"),
        (HEIC, "image/heic"),
        (HEIX, "image/heic"),
        (MIF1, "image/heic"),
    ],
    ids=["pdf", "png", "jpeg", "gif89a", "gif87a", "webp", "tiff-le", "tiff-be", "heic", "heix", "mif1"],
)
def test_each_known_type_is_recognised_from_its_first_bytes(head, kind):
    assert uploads.sniff(head) == kind
    assert uploads.sniff(head[: uploads.HEAD_BYTES]) == kind


@pytest.mark.parametrize(
    "head",
    [EXE, ELF, ZIP, HTML, SVG, TEXT, WAV, MP4, b"", b"%PD", b"\x89PN", b" %PDF-1.7"],
    ids=["exe", "elf", "zip", "html", "svg", "text", "wav", "mp4", "empty", "short-pdf", "short-png", "space-pdf"],
)
def test_anything_else_is_not_recognised(head):
    assert uploads.sniff(head) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (TIFF_LE, "image/tiff"),
        (TIFF_BE, "image/tiff"),
        (HEIC, "image/heic"),
    ],
    ids=["pdf", "png", "jpeg", "gif", "webp", "tiff-le", "tiff-be", "heic"],
)
def test_each_type_is_stored_with_its_sniffed_type_when_the_question_accepts_it(draft, content, kind):
    rules = UploadRules(accept=ALL_TYPES, max_bytes=MB, max_files=1)
    upload = uploads.store(posted("scan", content), field="proof", draft=draft, rules=rules)
    assert upload.content_type == kind


@pytest.mark.django_db
def test_a_pdf_named_like_a_photo_is_stored_as_the_pdf_it_is(draft):
    upload = uploads.store(
        posted("photo.png", PDF, "image/png"), field="proof_of_address", draft=draft, rules=UploadRules()
    )
    assert upload.content_type == "application/pdf"
    assert upload.original_name == "photo.png"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [("form.pdf", EXE), ("bill.pdf", ELF), ("bill.pdf", ZIP), ("bill.png", HTML), ("logo.png", SVG), ("a.pdf", TEXT)],
    ids=["exe", "elf", "zip", "html", "svg", "text"],
)
def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_written(draft, media, name, content):
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted(name, content, "application/pdf"), field="proof", draft=draft, rules=UploadRules())
    assert refusal(excinfo) == ("file_type_not_allowed", "The selected file must be a PDF, JPG or PNG")
    assert excinfo.value.params == {"types": "PDF, JPG or PNG"}
    assert on_disk(media) == []
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_a_known_type_the_question_does_not_accept_is_refused(draft):
    rules = uploads.accept_and_limits({"type": "string", "x-accept": ["application/pdf"]})
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("photo.png", PNG), field="proof", draft=draft, rules=rules)
    assert refusal(excinfo) == ("file_type_not_allowed", "The selected file must be a PDF")


# ------------------------------------------------------------------ size and count


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_in_words_a_citizen_reads(draft, media):
    rules = uploads.accept_and_limits({"type": "string", "x-max-bytes": 5 * MB})
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("bill.pdf", PDF + b"\0" * (5 * MB)), field="proof", draft=draft, rules=rules)
    assert refusal(excinfo) == ("file_too_large", "The selected file must be smaller than 5 MB")
    assert excinfo.value.params["limit"] == "5 MB"
    assert on_disk(media) == []
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_a_file_of_exactly_the_limit_is_kept(draft):
    content = PDF + b"\0" * (1000 - len(PDF))
    upload = uploads.store(posted("bill.pdf", content), field="proof", draft=draft, rules=UploadRules(max_bytes=1000))
    assert upload.size == 1000


class CountingFile(io.BytesIO):
    """File content that remembers how much of it was read."""

    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.mark.django_db
def test_a_declared_size_that_lies_does_not_get_a_big_file_through_and_reading_stops_past_the_limit(draft, media):
    content = CountingFile(PDF + b"\0" * (4 * MB))
    lying = UploadedFile(content, name="bill.pdf", content_type="application/pdf", size=100)
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(lying, field="proof", draft=draft, rules=UploadRules(max_bytes=100_000))
    assert excinfo.value.code == "file_too_large"
    assert content.bytes_read == 100_001  # one byte past the limit, not 4 MB
    assert on_disk(media) == []


@pytest.mark.django_db
def test_a_declared_size_over_the_limit_is_refused_without_reading(draft):
    content = CountingFile(PDF + b"\0" * MB)
    big = UploadedFile(content, name="bill.pdf", content_type="application/pdf", size=MB + len(PDF))
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(big, field="proof", draft=draft, rules=UploadRules(max_bytes=1000))
    assert excinfo.value.code == "file_too_large"
    assert content.bytes_read == 0


@pytest.mark.django_db
def test_an_empty_file_is_refused(draft, media):
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("bill.pdf", b""), field="proof", draft=draft, rules=UploadRules())
    assert refusal(excinfo) == ("file_empty", "The selected file is empty")
    assert on_disk(media) == []


@pytest.mark.django_db
def test_no_more_files_than_the_question_allows(draft, media):
    many = uploads.accept_and_limits({"type": "array", "maxItems": 3, "items": {"type": "string"}})
    assert many.max_files == 3
    uploads.store(posted("b.pdf", PDF), field="bills", draft=draft, rules=many, existing_count=2)
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("c.pdf", PDF), field="bills", draft=draft, rules=many, existing_count=3)
    assert refusal(excinfo) == ("too_many_files", "You can only upload up to 3 files")
    assert excinfo.value.params == {"limit": 3}

    one = uploads.accept_and_limits({"type": "string"})
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("d.pdf", PDF), field="proof", draft=draft, rules=one, existing_count=1)
    assert refusal(excinfo) == ("too_many_files", "You can only upload 1 file")
    assert len(on_disk(media)) == 1
    assert Upload.objects.count() == 1


# ------------------------------------------------------------------ where and how it is kept


@pytest.mark.django_db
def test_the_stored_file_has_a_generated_name_in_private_storage_and_its_checksum(draft, media, settings):
    content = PDF + b"proof of address for Ana Lima"
    upload = uploads.store(
        posted("proof-of-address-ana-lima.pdf", content), field="proof_of_address", draft=draft, rules=UploadRules()
    )
    assert re.fullmatch(rf"uploads/{timezone.now().year}/[0-9a-f]{{32}}", upload.stored_name)
    for part in ("proof", "address", "ana", "lima", ".pdf"):
        assert part not in upload.stored_name
    (path,) = on_disk(media)
    assert path == media / upload.stored_name
    assert path.read_bytes() == content
    assert upload.sha256 == hashlib.sha256(content).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert upload.size == len(content)
    assert (upload.draft, upload.field, upload.scan) == (draft, "proof_of_address", "not_scanned")
    assert path.stat().st_mode & 0o777 == 0o600

    # Not in a folder anything serves: not static files, and no URL maps onto it.
    static_folders = [
        Path(settings.STATIC_ROOT),
        *(Path(p).parents[1] for p in finders.find("workflows/site.css", find_all=True)),
    ]
    assert static_folders[1:]  # the app's static folder was found, so the check below means something
    assert not any(path.resolve().is_relative_to(folder.resolve()) for folder in static_folders)
    with pytest.raises(Resolver404):
        resolve("/" + upload.stored_name)


def test_the_shipped_settings_keep_files_private():
    from workflows import settings as shipped  # the module as deployed, not the test overrides

    assert Path(shipped.MEDIA_ROOT) == shipped.VAR_DIR / "private-files"
    assert not Path(shipped.MEDIA_ROOT).is_relative_to(shipped.STATIC_ROOT)
    assert not getattr(shipped, "MEDIA_URL", "")
    assert shipped.FILE_UPLOAD_PERMISSIONS == 0o600


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("bill.pdf", "bill.pdf"),
        ("C:\\Users\\ana\\Documents\\bill.pdf", "bill.pdf"),
        ("../../etc/passwd", "passwd"),
        ("bill\x00.pdf", "bill.pdf"),
        ("bill\r\nSet-Cookie: x=1.pdf", "billSet-Cookie: x=1.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("reçu de loyer.pdf", "reçu de loyer.pdf"),
        ("  ", "file"),
        ("..", "file"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_the_original_name_is_kept_only_as_safe_text(given, kept):
    assert uploads.clean_name(given) == kept


@pytest.mark.django_db
def test_the_original_name_is_stored_cleaned(draft):
    upload = uploads.store(posted("../bill\x07\u202e.pdf", PDF), field="proof", draft=draft, rules=UploadRules())
    assert upload.original_name == "bill.pdf"


# ------------------------------------------------------------------ downloads and removal


@pytest.mark.django_db
def test_a_download_is_an_attachment_of_the_sniffed_type_that_browsers_do_not_sniff(draft):
    upload = uploads.store(posted("photo.png", PDF, "image/png"), field="proof", draft=draft, rules=UploadRules())
    response = uploads.response_for(upload)
    try:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="photo.png.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Length"] == str(len(PDF))
        assert b"".join(cast(Iterator[bytes], response.streaming_content)) == PDF
    finally:
        response.close()


@pytest.mark.django_db
def test_a_download_keeps_a_matching_extension_and_a_non_ascii_name(draft):
    upload = uploads.store(posted("reçu.PDF", PDF), field="proof", draft=draft, rules=UploadRules())
    response = uploads.response_for(upload)
    response.close()
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''re%C3%A7u.PDF"


@pytest.mark.django_db
def test_discarding_removes_the_row_and_then_the_file(draft, media, django_capture_on_commit_callbacks):
    upload = uploads.store(posted("bill.pdf", PDF), field="proof", draft=draft, rules=UploadRules())
    assert len(on_disk(media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        uploads.discard(upload)
        assert len(on_disk(media)) == 1  # the file waits for the commit
    assert Upload.objects.count() == 0
    assert on_disk(media) == []


# ------------------------------------------------------------------ rules from the schema


def test_rules_default_to_pdf_jpg_png_one_file_and_the_installation_limit(settings):
    settings.CIVICFLOW_UPLOAD_MAX_BYTES = 7 * MB
    assert uploads.accept_and_limits({"type": "string"}) == UploadRules(
        accept=("application/pdf", "image/jpeg", "image/png"), max_bytes=7 * MB, max_files=1
    )


def test_the_schema_can_lower_the_size_limit_but_not_raise_it(settings):
    settings.CIVICFLOW_UPLOAD_MAX_BYTES = 10 * MB
    assert uploads.accept_and_limits({"x-max-bytes": 2 * MB}).max_bytes == 2 * MB
    assert uploads.accept_and_limits({"x-max-bytes": 50 * MB}).max_bytes == 10 * MB
    assert uploads.accept_and_limits({"x-max-bytes": True}).max_bytes == 10 * MB
    assert uploads.accept_and_limits({"x-max-bytes": -1}).max_bytes == 10 * MB


def test_the_shipped_library_card_question_takes_pdf_jpg_png_up_to_5_mb():
    node = {"type": "string", "x-accept": ["application/pdf", "image/jpeg", "image/png"], "x-max-bytes": 5242880}
    rules = uploads.accept_and_limits(node)
    assert (rules.accept, rules.max_bytes, rules.max_files) == (uploads.DEFAULT_ACCEPT, 5 * MB, 1)


def test_a_list_of_files_takes_max_items_and_rules_from_its_items():
    node = {"type": "array", "maxItems": 4, "items": {"type": "string", "x-accept": ["image/png", "image/heif"]}}
    assert uploads.accept_and_limits(node) == UploadRules(
        accept=("image/png", "image/heic"), max_bytes=10 * MB, max_files=4
    )
    assert uploads.accept_and_limits({"type": "array"}).max_files == uploads.DEFAULT_MAX_FILES


def test_types_that_cannot_be_recognised_from_content_are_never_accepted(caplog):
    with caplog.at_level(logging.WARNING, logger="workflows.uploads"):
        rules = uploads.accept_and_limits({"x-accept": ["image/svg+xml", "text/html", "image/JPG"]})
    assert rules.accept == ("image/jpeg",)
    assert "image/svg+xml" in caplog.text
    assert uploads.accept_and_limits({"x-accept": ["image/svg+xml"]}).accept == uploads.DEFAULT_ACCEPT


def test_types_are_described_as_citizens_know_them():
    assert uploads.describe_types(uploads.DEFAULT_ACCEPT) == "PDF, JPG or PNG"
    assert uploads.describe_types(["image/png", "image/heic"]) == "PNG or HEIC"
    assert uploads.describe_types(["application/pdf"]) == "PDF"
    assert [uploads.describe_size(n) for n in (5 * MB, 5 * MB - 1, 2_500_000, 300 * 1024, 999)] == [
        "5 MB",
        "4.9 MB",
        "2.3 MB",
        "300 KB",
        "999 bytes",
    ]


# ------------------------------------------------------------------ virus scanning (a fake clamd)


def _read_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        more = conn.recv(count - len(data))
        if not more:
            raise ConnectionError("client hung up")
        data += more
    return data


class FakeClamd:
    """A loopback clamd that speaks INSTREAM: records what it was sent, then answers ``reply``.

    ``hang_up_after`` answers and closes as soon as that many bytes have arrived (as clamd does
    past its StreamMaxLength); ``silent`` reads everything and never answers.
    """

    def __init__(
        self, reply: bytes, *, unix_path: str | None = None, hang_up_after: int | None = None, silent: bool = False
    ) -> None:
        self.reply = reply
        self.hang_up_after = hang_up_after
        self.silent = silent
        self.commands: list[bytes] = []
        self.chunk_sizes: list[int] = []
        self.received = b""
        self.release = threading.Event()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(5)
                fake.commands.append(_read_exactly(conn, len(b"zINSTREAM\0")))
                while True:
                    (length,) = struct.unpack("!I", _read_exactly(conn, 4))
                    if length == 0:
                        break
                    fake.chunk_sizes.append(length)
                    fake.received += _read_exactly(conn, length)
                    if fake.hang_up_after is not None and len(fake.received) > fake.hang_up_after:
                        conn.sendall(fake.reply)
                        return
                if fake.silent:
                    fake.release.wait(5)
                    return
                conn.sendall(fake.reply)

        self.server: socketserver.ThreadingTCPServer | socketserver.ThreadingUnixStreamServer
        if unix_path is None:
            tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
            self.address = f"127.0.0.1:{tcp.socket.getsockname()[1]}"
            self.server = tcp
        else:
            self.server = socketserver.ThreadingUnixStreamServer(unix_path, Handler)
            self.address = unix_path
        self.server.daemon_threads = True  # a handler left waiting never blocks the test run
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def clamd(settings: Any) -> Iterator[Any]:
    """Start a fake clamd and point CLAMAV_ADDRESS at it: ``clamd(b"stream: OK\\0")``."""
    started: list[FakeClamd] = []

    def start(reply: bytes, **options: Any) -> FakeClamd:
        fake = FakeClamd(reply, **options)
        started.append(fake)
        settings.CLAMAV_ADDRESS = fake.address
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.mark.django_db
def test_a_clean_verdict_stores_the_file_as_scanned_and_clamd_got_exactly_the_file(draft, media, clamd):
    fake = clamd(b"stream: OK\0")
    content = PDF + bytes(range(256)) * 800  # 200 KB: several chunks
    upload = uploads.store(posted("bill.pdf", content), field="proof", draft=draft, rules=UploadRules())
    assert upload.scan == "clean"
    assert fake.commands == [b"zINSTREAM\0"]
    assert fake.received == content
    assert len(fake.chunk_sizes) > 1
    assert max(fake.chunk_sizes) <= uploads.CHUNK_BYTES
    assert len(on_disk(media)) == 1


@pytest.mark.django_db
def test_an_infected_file_is_refused_and_nothing_is_kept(draft, media, clamd, caplog):
    clamd(b"stream: Eicar-Signature FOUND\0")
    with caplog.at_level(logging.WARNING, logger="workflows.uploads"), pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("ana-lima-bill.pdf", PDF + EICAR), field="proof", draft=draft, rules=UploadRules())
    assert refusal(excinfo) == ("file_infected", "The selected file contains a virus and was not kept")
    assert on_disk(media) == []
    assert Upload.objects.count() == 0
    assert "Eicar-Signature" in caplog.text
    assert "ana-lima" not in caplog.text  # file names can be personal data: never logged


@pytest.mark.django_db
def test_a_configured_scanner_that_is_not_running_refuses_the_upload(draft, media, settings):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("bill.pdf", PDF), field="proof", draft=draft, rules=UploadRules())
    assert refusal(excinfo) == ("scan_unavailable", "We could not check the file for viruses. Try again later.")
    assert on_disk(media) == []
    assert Upload.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reply", "options"),
    [
        (b"INSTREAM size limit exceeded. ERROR\0", {}),
        (b"INSTREAM size limit exceeded. ERROR\0", {"hang_up_after": 1000}),
        (b"UNKNOWN COMMAND\0", {}),
        (b"stream:  FOUND\0", {}),
        (b"", {}),
        (b"", {"silent": True}),
    ],
    ids=["error", "hangs-up-mid-stream", "gibberish", "found-nothing", "closes-without-answer", "never-answers"],
)
def test_a_scanner_that_gives_no_clear_verdict_refuses_the_upload(draft, media, clamd, settings, reply, options):
    clamd(reply, **options)
    settings.CLAMAV_TIMEOUT = 0.5
    with pytest.raises(UploadRefused) as excinfo:
        uploads.store(posted("bill.pdf", PDF + b"\0" * 300_000), field="proof", draft=draft, rules=UploadRules())
    assert excinfo.value.code == "scan_unavailable"
    assert on_disk(media) == []
    assert Upload.objects.count() == 0


@pytest.mark.django_db
def test_clamd_on_a_unix_socket(draft, clamd):
    folder = tempfile.mkdtemp(prefix="clamd-")  # short: unix socket paths are limited to ~100 bytes
    path = os.path.join(folder, "clamd.sock")
    try:
        fake = clamd(b"stream: OK\0", unix_path=path)
        assert isinstance(uploads.scanner_from_settings(), uploads.ClamdScanner)
        upload = uploads.store(posted("bill.pdf", PDF), field="proof", draft=draft, rules=UploadRules())
        assert upload.scan == "clean"
        assert fake.received == PDF
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(folder)


def test_clamd_verdicts_are_read_from_its_replies(clamd):
    fake = clamd(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
    verdict = uploads.ClamdScanner(fake.address, timeout=2).scan([EICAR])
    assert (verdict.is_clean, verdict.signature) == (False, "Win.Test.EICAR_HDB-1")
    fake.reply = b"stream: OK\0"
    assert uploads.ClamdScanner(fake.address, timeout=2).scan([b"", EICAR, b""]).is_clean


@pytest.mark.django_db
def test_without_a_scanner_files_are_kept_as_not_scanned(draft, settings, caplog):
    assert uploads.scanner_from_settings() is None
    upload = uploads.store(posted("bill.pdf", PDF), field="proof", draft=draft, rules=UploadRules())
    assert upload.scan == "not_scanned"
    assert "CLAMAV_ADDRESS" not in caplog.text  # development: nothing to warn about


@pytest.mark.django_db
def test_production_without_a_scanner_warns_once(draft, settings, caplog, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.setattr(uploads, "_warned_unscanned", False)
    with caplog.at_level(logging.WARNING, logger="workflows.uploads"):
        for name in ("a.pdf", "b.pdf"):
            uploads.store(posted(name, PDF), field="bills", draft=draft, rules=UploadRules(max_files=5))
    assert caplog.text.count("CLAMAV_ADDRESS is not set") == 1


@pytest.mark.parametrize("address", ["clamd", "clamd:", "clamd:port", "clamd:70000", ":3310"])
def test_a_malformed_scanner_address_is_a_configuration_error(settings, address):
    settings.CLAMAV_ADDRESS = address
    with pytest.raises(ImproperlyConfigured, match="CLAMAV_ADDRESS"):
        uploads.scanner_from_settings()


def test_scanner_addresses_that_work(settings):
    settings.CLAMAV_ADDRESS = "[::1]:3310"
    settings.CLAMAV_TIMEOUT = 3.5
    scanner = uploads.scanner_from_settings()
    assert isinstance(scanner, uploads.ClamdScanner)
    assert (scanner.address, scanner.timeout) == ("[::1]:3310", 3.5)
    assert isinstance(uploads.ClamdScanner("clamav.internal:3310", timeout=1), uploads.ClamdScanner)
