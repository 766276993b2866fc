"""Files citizens attach to an application: checked, scanned, stored privately (threat T10).

Nothing about a file is trusted from the browser. The type is sniffed from the first bytes
(a ``.pdf`` name or a ``Content-Type: application/pdf`` header prove nothing), the size is
counted while reading (never taken from the request), and the name is kept only to show it
back: on disk a file is ``uploads/<year>/<random hex>`` under the private ``MEDIA_ROOT``,
which no URL serves. Files go back out only through :func:`response_for`, as downloads that
browsers neither render nor sniff.

When a virus scanner (clamd) is configured, every file is scanned before it is stored, and
the scanner being down refuses the upload ("fail closed"): a citizen retrying later is
better than an unscanned file reaching a caseworker's desktop.

A refused file leaves nothing behind: no row, no file on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import struct
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone

from workflows.models import Draft, Upload

logger = logging.getLogger(__name__)

#: What :func:`sniff` looks at: enough for every signature it knows.
HEAD_BYTES = 32
#: Read, scan and store in pieces of this size, so no file is ever held whole in memory.
CHUNK_BYTES = 64 * 1024
#: Files up to this size stay in memory while being checked; larger ones go to a private temp file.
SPOOL_BYTES = 1024 * 1024

DEFAULT_ACCEPT: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")
#: A list-of-files question without ``maxItems`` still has a limit.
DEFAULT_MAX_FILES = 10

#: Every type :func:`sniff` can recognise, with the word citizens know it by and the file
#: name extensions that go with it (the first is added to download names that lack one).
KNOWN_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "application/pdf": ("PDF", (".pdf",)),
    "image/jpeg": ("JPG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    "image/png": ("PNG", (".png",)),
    "image/gif": ("GIF", (".gif",)),
    "image/webp": ("WEBP", (".webp",)),
    "image/tiff": ("TIFF", (".tif", ".tiff")),
    "image/heic": ("HEIC", (".heic", ".heif")),
}
#: Names designers may write in ``x-accept`` for a type above.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/heif": "image/heic"}

_HEIF_BRANDS = {b"heic", b"heix", b"mif1"}


def sniff(head: bytes) -> str | None:
    """The MIME type the content really is, from its magic bytes; ``None`` when not a known type.

    Only formats a caseworker can open safely are recognised. Everything else (executables,
    archives, HTML, SVG, scripts, plain text) is ``None``, so it can never be accepted,
    whatever its name says.
    """
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def describe_types(accept: Iterable[str]) -> str:
    """The accepted types as a citizen reads them: ``"PDF, JPG or PNG"``."""
    words = [KNOWN_TYPES[kind][0] if kind in KNOWN_TYPES else kind for kind in accept]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def describe_size(size: int) -> str:
    """A byte count as a citizen reads it: ``"5 MB"``, ``"2.5 MB"``, ``"300 KB"``.

    Rounded down, so "smaller than 4.7 MB" never refuses a file the message says is fine.
    """
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            tenths = size * 10 // scale
            whole, fraction = divmod(tenths, 10)
            return f"{whole} {unit}" if fraction == 0 else f"{whole}.{fraction} {unit}"
    return f"{size} bytes"


# ------------------------------------------------------------------ refusals


class UploadRefused(Exception):
    """A file was not kept. ``code`` is stable (tests, translations, the API); ``message`` is
    plain English for the citizen; ``params`` holds the values the message was built from,
    so a translated template can be filled in the same way."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = params

    def __repr__(self) -> str:
        return f"UploadRefused({self.code!r}, {self.message!r})"

    @classmethod
    def empty(cls) -> UploadRefused:
        return cls("file_empty", "The selected file is empty")

    @classmethod
    def too_large(cls, max_bytes: int) -> UploadRefused:
        limit = describe_size(max_bytes)
        return cls(
            "file_too_large", f"The selected file must be smaller than {limit}", limit=limit, max_bytes=max_bytes
        )

    @classmethod
    def type_not_allowed(cls, accept: Iterable[str]) -> UploadRefused:
        types = describe_types(accept)
        return cls("file_type_not_allowed", f"The selected file must be a {types}", types=types)

    @classmethod
    def infected(cls) -> UploadRefused:
        return cls("file_infected", "The selected file contains a virus and was not kept")

    @classmethod
    def scan_unavailable(cls) -> UploadRefused:
        return cls("scan_unavailable", "We could not check the file for viruses. Try again later.")

    @classmethod
    def too_many_files(cls, max_files: int) -> UploadRefused:
        message = "You can only upload 1 file" if max_files == 1 else f"You can only upload up to {max_files} files"
        return cls("too_many_files", message, limit=max_files)


# ------------------------------------------------------------------ rules from the schema


@dataclass(frozen=True, slots=True)
class UploadRules:
    """What one file question takes: which sniffed types, how big, and how many files."""

    accept: tuple[str, ...] = DEFAULT_ACCEPT
    max_bytes: int = 10 * 1024 * 1024
    max_files: int = 1


def _positive_int(value: Any) -> int | None:
    # JSON true is a Python int; a schema saying "x-max-bytes": true means nothing.
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def accept_and_limits(node: Mapping[str, Any]) -> UploadRules:
    """The rules a field's JSON Schema node sets, within what the installation allows.

    ``x-accept`` lists MIME types (default PDF, JPG, PNG); ``x-max-bytes`` caps a file's size
    but never above ``CIVICFLOW_UPLOAD_MAX_BYTES``, so an operator's limit always holds; an
    array node (several files) takes ``maxItems`` files, a string node one. For an array the
    ``x-`` keywords may sit on the node or on its ``items``.

    Types that cannot be recognised from content (SVG, HTML, Word...) could never match, so
    they are dropped; if none remain the default applies. The definition checker should
    report such types to the designer; this is only the last line.
    """
    many = node.get("type") == "array"
    items = node.get("items") if many else None
    inner: Mapping[str, Any] = items if isinstance(items, Mapping) else {}

    ceiling = int(settings.CIVICFLOW_UPLOAD_MAX_BYTES)
    wanted = _positive_int(node.get("x-max-bytes", inner.get("x-max-bytes")))
    max_bytes = min(wanted, ceiling) if wanted else ceiling

    raw = node.get("x-accept", inner.get("x-accept"))
    accept: tuple[str, ...] = DEFAULT_ACCEPT
    if isinstance(raw, list | tuple):
        named = [_ALIASES.get(str(kind).strip().lower(), str(kind).strip().lower()) for kind in raw]
        known = tuple(dict.fromkeys(kind for kind in named if kind in KNOWN_TYPES))
        if len(known) < len(named):
            logger.warning(
                "x-accept names types uploads cannot recognise, ignored: %s", sorted(set(named) - set(known))
            )
        accept = known or DEFAULT_ACCEPT

    max_files = (_positive_int(node.get("maxItems")) or DEFAULT_MAX_FILES) if many else 1
    return UploadRules(accept=accept, max_bytes=max_bytes, max_files=max_files)


# ------------------------------------------------------------------ virus scanning


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    """What the scanner found: nothing (``signature`` is ``None``) or a named threat."""

    signature: str | None = None

    @property
    def is_clean(self) -> bool:
        return self.signature is None

    @classmethod
    def clean(cls) -> ScanVerdict:
        return cls(None)

    @classmethod
    def infected(cls, signature: str) -> ScanVerdict:
        return cls(signature)


class ScanUnavailable(Exception):
    """The scanner could not give a verdict (down, slow, refused, or said something odd).

    Never treated as clean: the upload is refused instead.
    """


class Scanner(Protocol):
    """Anything that can look at a file's bytes and say whether they carry malware."""

    def scan(self, chunks: Iterable[bytes]) -> ScanVerdict: ...


class ClamdScanner:
    """Scans by streaming the bytes to a clamd daemon (ClamAV) with its INSTREAM command.

    ``address`` is ``host:port`` (``[::1]:3310`` for IPv6) or the path of clamd's unix
    socket (starting with ``/``). ``timeout`` bounds each step (connecting, sending, waiting
    for the verdict) in seconds. Anything but a clear "OK" or "FOUND" raises
    :class:`ScanUnavailable`, so a half-working scanner never lets a file through.
    """

    #: clamd replies with one short line; anything longer is not clamd.
    MAX_REPLY = 4096

    def __init__(self, address: str, timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self._unix: str | None = None
        self._tcp: tuple[str, int] | None = None
        if address.startswith("/"):
            self._unix = address
        else:
            host, sep, port = address.rpartition(":")
            host = host.removeprefix("[").removesuffix("]")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"clamd address must be host:port or /path/to/clamd.sock, not {address!r}")
            self._tcp = (host, int(port))

    def __repr__(self) -> str:
        return f"ClamdScanner({self.address!r}, timeout={self.timeout})"

    def scan(self, chunks: Iterable[bytes]) -> ScanVerdict:
        try:
            with self._connect() as conn:
                try:
                    conn.sendall(b"zINSTREAM\0")
                    for piece in _pieces(chunks):
                        conn.sendall(struct.pack("!I", len(piece)) + piece)
                    conn.sendall(struct.pack("!I", 0))
                except OSError as error:
                    # clamd hangs up mid-stream when the file passes its StreamMaxLength,
                    # after saying why: read that, it is a better log line than "broken pipe".
                    reply = self._read_reply(conn, quiet=True)
                    raise ScanUnavailable(f"clamd at {self.address}: {reply or error}") from error
                reply = self._read_reply(conn)
        except ScanUnavailable:
            raise
        except OSError as error:  # refused, unreachable, timed out, reset
            raise ScanUnavailable(f"clamd at {self.address}: {error}") from error
        return self._verdict(reply)

    def _connect(self) -> socket.socket:
        if self._unix is not None:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.settimeout(self.timeout)
                conn.connect(self._unix)
            except BaseException:
                conn.close()
                raise
            return conn
        assert self._tcp is not None
        conn = socket.create_connection(self._tcp, timeout=self.timeout)
        conn.settimeout(self.timeout)
        return conn

    def _read_reply(self, conn: socket.socket, *, quiet: bool = False) -> str:
        """clamd's reply: text up to the NUL that ends it (the ``z`` prefix asked for NUL)."""
        received = b""
        try:
            while b"\0" not in received and len(received) < self.MAX_REPLY:
                data = conn.recv(self.MAX_REPLY)
                if not data:
                    break
                received += data
        except OSError as error:
            if quiet:
                return ""
            raise ScanUnavailable(f"clamd at {self.address}: no verdict ({error})") from error
        return received.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def _verdict(self, reply: str) -> ScanVerdict:
        if reply == "stream: OK":
            return ScanVerdict.clean()
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            signature = reply.removeprefix("stream: ").removesuffix(" FOUND").strip()
            if signature:
                return ScanVerdict.infected(signature[:200])
        raise ScanUnavailable(f"clamd at {self.address} answered {reply[:200]!r}")


def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, cut to at most CHUNK_BYTES each and without empty ones: clamd reads a
    zero length as the end of the stream, and rejects chunks over its own limits."""
    for chunk in chunks:
        for start in range(0, len(chunk), CHUNK_BYTES):
            yield chunk[start : start + CHUNK_BYTES]


_warned_unscanned = False


def scanner_from_settings() -> Scanner | None:
    """The configured scanner, or ``None`` when ``CLAMAV_ADDRESS`` is empty.

    No scanner is normal in development. In production it is allowed (not every agency runs
    ClamAV) but it is a risk an operator must know about, so it is logged, once per process.
    """
    global _warned_unscanned
    address = str(getattr(settings, "CLAMAV_ADDRESS", "") or "").strip()
    if not address:
        if getattr(settings, "PRODUCTION", False) and not _warned_unscanned:
            _warned_unscanned = True
            logger.warning(
                "CLAMAV_ADDRESS is not set: uploaded files are stored without a virus scan (scan=not_scanned)"
            )
        return None
    try:
        return ClamdScanner(address, float(getattr(settings, "CLAMAV_TIMEOUT", 10.0)))
    except ValueError as error:
        raise ImproperlyConfigured(f"CLAMAV_ADDRESS: {error}") from error


# ------------------------------------------------------------------ storing, serving, discarding


def store(file: UploadedFile[Any], *, field: str, draft: Draft, rules: UploadRules, existing_count: int = 0) -> Upload:
    """Check one posted file and keep it, or raise :class:`UploadRefused` having kept nothing.

    Checks run cheapest first: the count, the declared size (a quick "no" only: the real
    size is counted while reading, and reading stops one byte past the limit), emptiness,
    the sniffed type, then the virus scan. Only then is the file written, under a generated
    name, and its row created; if the row cannot be created the file is removed again.
    """
    if existing_count >= rules.max_files:
        raise UploadRefused.too_many_files(rules.max_files)
    kept = keep(file, rules=rules, where=f"draft {draft.public_id}, field {field}")
    try:
        return Upload.objects.create(draft=draft, field=field, **kept.row())
    except BaseException:
        forget(kept)
        raise


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A file that passed every check and is stored, but has no ``Upload`` row yet.

    The caller creates the row (``Upload(**kept.row(), ...)``) in its own transaction, and calls
    :func:`forget` if that fails, so a refused or rolled-back change leaves no file behind.
    """

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    scan: str
    uploaded_at: datetime

    def row(self) -> dict[str, Any]:
        """The ``Upload`` fields this file fills."""
        return {
            "stored_name": self.stored_name,
            "original_name": self.original_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "scan": self.scan,
            "uploaded_at": self.uploaded_at,
        }


def keep(file: UploadedFile[Any], *, rules: UploadRules, where: str) -> KeptFile:
    """Check one posted file (size, emptiness, sniffed type, virus scan) and store it privately.

    Raises :class:`UploadRefused` having stored nothing. ``where`` says in log lines what the
    file was for (never its name: names can be personal data).
    """
    declared = file.size
    if declared is not None and declared > rules.max_bytes:
        raise UploadRefused.too_large(rules.max_bytes)

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as copy:
        size, sha256 = _copy_at_most(file, copy, rules.max_bytes)
        if size == 0:
            raise UploadRefused.empty()
        if size > rules.max_bytes:
            raise UploadRefused.too_large(rules.max_bytes)
        copy.seek(0)
        content_type = sniff(copy.read(HEAD_BYTES))
        if content_type is None or content_type not in rules.accept:
            raise UploadRefused.type_not_allowed(rules.accept)
        scan = _scan(copy, where=where)

        now = timezone.now()
        copy.seek(0)
        name = f"uploads/{now.year}/{uuid.uuid4().hex}"  # nothing of the citizen's name, no extension
        stored_name = default_storage.save(name, File(copy, name=name))
    return KeptFile(stored_name, clean_name(file.name or ""), content_type, size, sha256, scan, now)


def forget(kept: KeptFile) -> None:
    """Remove a kept file whose row was never created (the change that wanted it was refused)."""
    try:
        default_storage.delete(kept.stored_name)
    except OSError:
        logger.exception("could not remove the unused stored file %s", kept.stored_name)


def staff_rules() -> UploadRules:
    """What staff may add to a case: any type the sniffer recognises, up to the installation's limit."""
    return UploadRules(accept=tuple(KNOWN_TYPES), max_bytes=int(settings.CIVICFLOW_UPLOAD_MAX_BYTES), max_files=1)


def _copy_at_most(source: UploadedFile[Any], target: IO[bytes], limit: int) -> tuple[int, str]:
    """Copy up to ``limit + 1`` bytes (one more than allowed proves "too large"); return the
    count and the SHA-256 of what was copied."""
    # Not seekable: read from where it is, which for a fresh upload is the start.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        source.seek(0)
    digest = hashlib.sha256()
    size = 0
    while size <= limit:
        chunk = source.read(min(CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _scan(copy: IO[bytes], *, where: str) -> str:
    """The ``scan`` value to store, or a refusal. Logs name no file: names can be personal data."""
    scanner = scanner_from_settings()
    if scanner is None:
        return Upload.Scan.NOT_SCANNED
    copy.seek(0)
    try:
        verdict = scanner.scan(iter(lambda: copy.read(CHUNK_BYTES), b""))
    except ScanUnavailable as error:
        logger.error("upload refused, virus scan unavailable (%s): %s", where, error)
        raise UploadRefused.scan_unavailable() from error
    if not verdict.is_clean:
        logger.warning("upload refused, virus found (%s): %s", where, verdict.signature)
        raise UploadRefused.infected()
    return Upload.Scan.CLEAN


def clean_name(name: str) -> str:
    """The name as the citizen called the file, safe to show and to put in a header.

    Folders (``C:\\Users\\ana\\``), control and invisible formatting characters (including
    right-to-left overrides that make ``exe.pdf`` look like ``fdp.exe``) are removed, and the
    result fits the 255-character column, keeping the extension.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"})
    name = name.strip()
    if name in {"", ".", ".."}:
        return "file"
    stem, extension = os.path.splitext(name)
    if len(extension) > 16:
        stem, extension = name, ""
    return stem[: 255 - len(extension)] + extension


def download_name(upload: Upload) -> str:
    """The name a download is saved under: the citizen's name, with an extension that
    matches the content. A PNG called ``notes.html`` downloads as ``notes.html.png``, so the
    caseworker's computer opens it as the image it is and never as a web page."""
    name = clean_name(upload.original_name)
    known = KNOWN_TYPES.get(upload.content_type)
    if known and not name.lower().endswith(known[1]):
        name = clean_name(name[: 255 - len(known[1][0])] + known[1][0])
    return name


def response_for(upload: Upload) -> FileResponse:
    """The file as a download. Callers check the person may see it; this only makes it safe.

    ``attachment`` stops the browser showing it inline (a PDF with scripts, an image that is
    also HTML), ``nosniff`` stops it guessing a different type, and ``no-store`` keeps a
    personal document out of shared and browser caches.
    """
    content_type = upload.content_type if upload.content_type in KNOWN_TYPES else "application/octet-stream"
    response = FileResponse(
        default_storage.open(upload.stored_name, "rb"),
        as_attachment=True,
        filename=download_name(upload),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def discard(upload: Upload) -> None:
    """Remove a file the citizen took back (or an expired draft's): the row now, the file on commit.

    The file goes only once the deletion is committed, so a rolled-back transaction never
    leaves a row pointing at a missing file. A failure to delete the file is logged, not raised.
    """
    stored_name = upload.stored_name
    upload.delete()
    transaction.on_commit(lambda: default_storage.delete(stored_name), robust=True)
