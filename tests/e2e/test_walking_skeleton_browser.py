"""In a real browser: a citizen applies for a library card, a librarian approves it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import fill_library_card
from workflows.models import Case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_citizen_applies_and_a_librarian_approves_in_the_browser(page: Page, live_server, library_card, librarian):
    # The citizen finds the program and applies (the form itself: test_apply_browser.py).
    page.goto(live_server.url)
    page.get_by_role("link", name="Library card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Library card")
    fill_library_card(page, live_server)
    page.get_by_role("button", name="Agree and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Application submitted")
    reference = page.locator("[data-reference]").inner_text()
    assert re.fullmatch(r"LC-\d{4}-\d{6}", reference)

    # The librarian signs in, takes the task and approves.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(librarian.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Work inbox")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text("Ana Lima")).to_be_visible()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_text("The task is assigned to you.")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(f"Recorded: approve for {reference}.")).to_be_visible()
    expect(page.get_by_text("Nothing to do: no open tasks for your roles.")).to_be_visible()

    case = Case.objects.get(reference=reference)
    assert (case.status, case.outcome) == ("closed", "approved")
