"""The interface translations: every string of the Django side has a Simplified Chinese
translation, the compiled catalogue matches its source, and the pages use it.

Program texts (titles, questions, choices) come from each program's own definition files and
are tested with the definitions; these tests cover the strings of workflows/ only.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from workflows.models import Program

LOCALE = Path(__file__).resolve().parents[2] / "workflows" / "locale"
CATALOGUE = LOCALE / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"

REFRESH = "run `make messages`, translate what it reports, and commit both django.po and django.mo"


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), quoted[1:-1])


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included, obsolete (#~) entries left out."""
    entries = []
    for block in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8")):
        lines = block.strip().splitlines()
        if not lines or any(line.startswith("#~") for line in lines):
            continue
        flags: set[str] = set()
        fields: dict[str, str] = {}
        keyword = None
        for line in lines:
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line):
                keyword = match[1]
                fields[keyword] = _unquote(match[2])
            elif line.startswith('"') and keyword:
                fields[keyword] += _unquote(line)
        if "msgid" not in fields:
            continue
        msgstrs = [fields[key] for key in sorted(k for k in fields if k.startswith("msgstr"))]
        entries.append(Entry(fields["msgid"], fields.get("msgid_plural"), fields.get("msgctxt"), msgstrs, flags))
    return entries


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """A request in Chinese leaves the language active in this thread: put English back."""
    yield
    translation.deactivate()


def test_the_catalogue_has_a_proper_header() -> None:
    header = next(entry for entry in read_po(PO) if entry.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstrs[0]
    assert "charset=UTF-8" in header.msgstrs[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstrs[0]


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    messages = [entry for entry in read_po(PO) if entry.msgid]
    assert len(messages) > 100  # the parser really read the catalogue
    untranslated = [entry.msgid for entry in messages if not all(entry.msgstrs)]
    fuzzy = [entry.msgid for entry in messages if "fuzzy" in entry.flags]
    assert not untranslated, f"untranslated in {PO}: {untranslated}; {REFRESH}"
    assert not fuzzy, f"fuzzy (guessed) in {PO}: {fuzzy}; check them, remove the flag, {REFRESH}"
    # Chinese has one plural form: exactly msgstr[0], never a second.
    assert all(len(entry.msgstrs) == 1 for entry in messages if entry.msgid_plural)


def test_translations_keep_placeholders_and_markup() -> None:
    def marks(text: str) -> tuple[list[str], list[str]]:
        return sorted(re.findall(r"%\(\w+\)[sd]", text)), re.findall(r"</?\s*([a-z]+)", text)

    for entry in read_po(PO):
        if entry.msgid:
            for msgstr in entry.msgstrs:
                assert marks(msgstr) == marks(entry.msgid_plural or entry.msgid), (entry.msgid, msgstr)


def test_the_compiled_catalogue_is_up_to_date(tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("this test needs GNU gettext's msgfmt on PATH (apt-get install gettext); `make messages` does too")
    fresh = tmp_path / "django.mo"
    # --check also verifies that every python-format translation uses the same placeholders.
    result = subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"msgfmt rejects {PO}:\n{result.stderr}"
    with fresh.open("rb") as compiled, MO.open("rb") as committed:
        expected = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        shipped = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    assert shipped == expected, f"{MO} is older than {PO}: {REFRESH}"


def _choose_chinese(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302


def test_the_catalogue_page_is_in_chinese_once_chosen(client: Client, library_card: Program) -> None:
    _choose_chinese(client)
    page = client.get("/").text
    assert '<html lang="zh-hans"' in page
    assert "申请服务项目" in page  # Apply for a program
    assert "公共机构的官方网站" in page  # An official website of your public agency
    assert "如何辨别" in page  # Here’s how you know
    assert "Apply for a program" not in page
    assert "An official website of your public agency" not in page


def test_the_start_page_is_in_chinese_once_chosen(client: Client, library_card: Program) -> None:
    _choose_chinese(client)
    page = client.get("/programs/library-card/").text
    assert '<html lang="zh-hans"' in page
    assert "立即开始" in page  # Start now
    assert "Start now" not in page


def test_english_stays_the_default(client: Client, library_card: Program) -> None:
    page = client.get("/").text
    assert '<html lang="en"' in page
    assert "Apply for a program" in page
