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


# ---------------------------------------------------------------- any program's form, by label

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)
"""A 1×1 PNG, for a file question that takes images."""


def group(scope: Page | Locator, legend: str) -> Locator:
    """The fieldset whose legend starts with ``legend`` (radios, yes/no, checkboxes, an address, a signature)."""
    return scope.get_by_role("group", name=re.compile(f"^{re.escape(legend)}"))


def settle(scope: Page | Locator) -> None:
    """Wait until the page has redrawn its questions for the answer just given (show-if, with JavaScript)."""
    page = scope if isinstance(scope, Page) else scope.page
    page.wait_for_load_state("networkidle")


def answer_choice(scope: Page | Locator, legend: str, *options: str) -> None:
    """Tick ``options`` (one for radios and yes/no, any number of checkboxes) in the question ``legend``.

    A choice can show or hide other questions: the page redraws them before the next answer.
    """
    for option in options:
        group(scope, legend).locator("label", has_text=re.compile(f"^{re.escape(option)}$")).click()
        settle(scope)
        expect(group(scope, legend).get_by_label(option, exact=True)).to_be_checked()


def answer_address(scope: Page | Locator, legend: str, line1: str, city: str, state: str, zip_code: str) -> None:
    """An address question: each part by its label, inside the fieldset ``legend``."""
    address = group(scope, legend)
    address.get_by_label("Street address").fill(line1)
    address.get_by_label("City").fill(city)
    address.get_by_label("State").fill(state)
    address.get_by_label("ZIP code").fill(zip_code)


def answer_signature(scope: Page | Locator, name: str, day: str, legend: str = "Signature") -> None:
    signature = group(scope, legend)
    signature.get_by_label("Full name").fill(name)
    signature.get_by_label("Date").fill(day)


def answer_file(scope: Page | Locator, label: str, name: str, mime_type: str = "application/pdf") -> None:
    """Upload a small generated file (``PDF`` or ``PNG``, by ``mime_type``) to the file question ``label``."""
    content = PNG if mime_type == "image/png" else PDF
    scope.get_by_label(label).set_input_files(files=[FilePayload(name=name, mimeType=mime_type, buffer=content)])


def submit_and_read_the_receipt(page: Page, prefix: str) -> str:
    """Agree and submit on check answers; the reference on the confirmation and on the printable receipt."""
    heading(page, "Check your answers before submitting")
    page.get_by_role("button", name="Agree and submit").click()
    heading(page, "Application submitted")
    reference = page.locator("[data-reference]").inner_text()
    assert re.fullmatch(rf"{prefix}-\d{{4}}-\d{{6}}", reference), reference
    page.get_by_role("link", name=re.compile("printable receipt")).click()
    expect(page.locator("[data-reference]")).to_have_text(reference)
    return reference


def staff_opens_the_task(page: Page, live_server: Any, user: User, reference: str, title: str) -> None:
    """A member of staff signs in, finds the case in their work inbox and opens its task, taking it if free."""
    page.context.clear_cookies()  # the citizen's browser session ends
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in(page, user)
    heading(page, "Work inbox")
    page.get_by_role("link", name=reference).click()
    heading(page, title)
    take = page.get_by_role("button", name="Assign to me")
    if take.count():
        take.click()
        expect(page.get_by_role("status")).to_have_text("The task is assigned to you.")


def decide(page: Page, reference: str, outcome: str) -> None:
    """Choose the outcome button ``outcome`` ("Complete") on the task page; back in the inbox, it is recorded."""
    page.get_by_role("heading", name="Decision").scroll_into_view_if_needed()
    page.get_by_role("button", name=outcome, exact=True).click()
    heading(page, "Work inbox")
    expect(page.get_by_text(f"Recorded: {outcome.lower()} for {reference}.")).to_be_visible()


def task_answer(page: Page, question: str) -> Locator:
    """The applicant's answer to ``question`` on the task page (the first ``dd`` after that ``dt``)."""
    return page.locator("dl.answers dt", has_text=re.compile(f"^{re.escape(question)}$")).first.locator("+ dd")
