"""Steps the browser tests share: what every page must have, signing in, and filling the library-card form."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from playwright.sync_api import FilePayload, Locator, Page, expect

from tests.e2e.accessibility import assert_accessible
from workflows.models import Draft

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "correct horse battery staple"  # every user tests/conftest.py makes


def check_page(page: Page, what: str) -> None:
    """What every page must have (criterion 13), then axe."""
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("section.usa-banner")).to_have_count(1)
    expect(page.locator(".usa-identifier")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, context=what)


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def sign_in(page: Page, user: User) -> None:
    """Fill the sign-in page the browser is on; it then goes where it was going (``next``)."""
    heading(page, "Staff sign in")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def citizen_sign_in(page: Page, email: str) -> None:
    """Fill the citizens' sign-in page the browser is on; it then goes where it was going (``next``)."""
    heading(page, "Sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()


def choose(scope: Page | Locator, label: str) -> None:
    """Tick a radio button the way people do: USWDS draws the label, the input sits off-screen."""
    scope.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()


def continue_(page: Page) -> None:
    page.locator(".wizard__actions").get_by_role("button", name=re.compile(r"^Continue")).click()


def start_and_answer_about_you(page: Page, live_server: Any) -> None:
    """From the start page through the first page of the library-card form."""
    page.goto(f"{live_server.url}/programs/library-card/")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Full name").fill("Ana Lima")
    page.get_by_label("Date of birth").fill("1988-03-14")
    page.get_by_label("Email address").fill("ana@example.org")
    continue_(page)


def fill_library_card(page: Page, live_server: Any) -> Draft:
    """From the start page to check answers, with a simple valid application (card by mail)."""
    start_and_answer_about_you(page, live_server)
    page.get_by_label("Street address").fill("12 Harbor Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("ZIP code").fill("97403")
    page.get_by_label("Proof of address").set_input_files(
        files=[FilePayload(name="lease.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    continue_(page)
    choose(page, "Send it by mail")
    choose(page.get_by_role("group", name="Do you also want cards for children under 13?"), "No")
    continue_(page)
    heading(page, "Check your answers before submitting")
    return Draft.objects.get()
