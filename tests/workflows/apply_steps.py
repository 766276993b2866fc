"""Walking the library-card application with Django's test client, page by page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.conftest import DEFINITIONS
from workflows import programs, services
from workflows.models import Draft

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

ABOUT_YOU = {
    "full_name": "Ana Lima",
    "date_of_birth": "1988-03-14",
    "email": "ana@example.org",
    "phone": "",
}
ADDRESS = {
    "address.line1": "12 Harbor Street",
    "address.line2": "",
    "address.city": "Springfield",
    "address.zip": "97403",
}
CARD_MAIL = {"delivery": "mail", "children_cards": "false"}


def begin(client: Client, slug: str = "library-card") -> Draft:
    response = client.post(reverse("apply_begin", args=[slug]))
    assert response.status_code == 303, response
    draft_id = response["Location"].split("/")[2]
    return Draft.objects.get(public_id=draft_id)


def page_url(draft: Draft, page: str) -> str:
    return reverse("apply_page", args=[draft.public_id, page])


def post_page(client: Client, draft: Draft, page: str, answers: dict[str, Any], action: str = "continue", **extra: Any):
    shown = extra.pop("shown", None)
    data = {**answers, "action": action}
    if shown is not None:
        data["_shown"] = shown
    return client.post(page_url(draft, page), data, **extra)


def proof_file(name: str = "bill.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def fill_to_check(client: Client, draft: Draft) -> None:
    """Answer every page with a valid, simple application (card by mail, no children)."""
    assert post_page(client, draft, "about_you", ABOUT_YOU).status_code == 303
    response = post_page(client, draft, "address", {**ADDRESS, "proof_of_address": proof_file()})
    assert response.status_code == 303, _errors(response)
    response = post_page(client, draft, "card", CARD_MAIL)
    assert response["Location"] == reverse("apply_check", args=[draft.public_id]), _errors(response)


def _errors(response: Any) -> str:
    text = response.content.decode() if hasattr(response, "content") else ""
    return " | ".join(
        re.findall(r'class="usa-error-message"[^>]*>(.*?)</span>\s*(.*?)</span>', text, re.S)[:5].__str__()
    )


def publish_library_card_with(tmp_path: Path, file: str, change: Callable[[str], str]) -> None:
    """Publish a copy of the library-card program with one of its files changed."""
    folder = tmp_path / "library-card"
    shutil.copytree(DEFINITIONS / "library-card", folder)
    path = folder / file
    path.write_text(change(path.read_text()))
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))


def publish_with_task_list(tmp_path: Path) -> None:
    """The library-card program walked from a task list (``navigation: task list``)."""
    publish_library_card_with(tmp_path, "form.ui.yaml", lambda text: "navigation: task list\n" + text)
