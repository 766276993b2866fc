"""Text messages: one small interface, a backend per way of sending, chosen by a setting.

``CIVICFLOW_SMS_BACKEND`` names a class (dotted path) with ``send(to, text, key)``:

* ``workflows.sms.ConsoleBackend`` writes each message to standard output (the development
  default);
* ``workflows.sms.FileBackend`` writes one JSON file per message into ``CIVICFLOW_SMS_FILE_DIR``,
  named after the idempotency key, so a repeated delivery overwrites the same file;
* an adapter for a provider's API is a class like these. It passes ``key`` on as the
  provider's idempotency key where the provider has one, raises ``Refused`` when the provider
  says the number can never be reached, and lets connection errors through (they are retried).

An empty ``CIVICFLOW_SMS_BACKEND`` (the production default until one is chosen) sends none:
notices then go by e-mail and to the message centre only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

PHONE_PUNCTUATION = re.compile(r"[\s().-]")
PHONE_NUMBER = re.compile(r"^\+?[0-9]{7,15}$")
"""A phone number once spaces, dots, dashes and brackets are gone: 7 to 15 digits, maybe a +."""


class Refused(Exception):
    """The message can never be delivered to this number: do not try again."""


class SmsBackend(Protocol):
    def send(self, to: str, text: str, key: str) -> None:
        """Send ``text`` to the phone number ``to``; ``key`` is the same for every repeat of one message."""


def enabled() -> bool:
    """Is a backend configured? (Without one, no text messages are queued.)"""
    return bool(getattr(settings, "CIVICFLOW_SMS_BACKEND", ""))


def backend() -> SmsBackend:
    """The configured backend, a new instance."""
    path = getattr(settings, "CIVICFLOW_SMS_BACKEND", "")
    if not path:
        raise ImproperlyConfigured("CIVICFLOW_SMS_BACKEND is empty: no text messages can be sent")
    try:
        backend_class = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(f"CIVICFLOW_SMS_BACKEND {path!r} cannot be imported: {error}") from None
    instance: SmsBackend = backend_class()
    return instance


def normalized(number: str) -> str:
    """The number without spaces, dots, dashes or brackets; ``Refused`` if it is not a phone number.

    The refusal does not repeat the number: failure reasons are logged, and a phone number is
    personal data.
    """
    compact = PHONE_PUNCTUATION.sub("", number)
    if not PHONE_NUMBER.fullmatch(compact):
        raise Refused("the recipient's phone number is not a phone number (7 to 15 digits, maybe after a +)")
    return compact


class ConsoleBackend:
    """Writes each message to standard output: for development, never for real numbers."""

    def send(self, to: str, text: str, key: str) -> None:
        sys.stdout.write(f"SMS to {to} ({key}):\n{text}\n{'-' * 40}\n")
        sys.stdout.flush()


class FileBackend:
    """One JSON file per message (``{"key", "to", "text"}``) in ``CIVICFLOW_SMS_FILE_DIR``.

    The file is named after a hash of the key and written whole (through a temporary file, then
    renamed), so a repeated delivery replaces the file instead of adding a second message.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.CIVICFLOW_SMS_FILE_DIR)

    def path_for(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def send(self, to: str, text: str, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        content = json.dumps({"key": key, "to": to, "text": text}, ensure_ascii=False, indent=2)
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(content)
            os.replace(temporary, self.path_for(key))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
