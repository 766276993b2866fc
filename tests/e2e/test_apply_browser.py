"""A citizen applies in a real browser, with JavaScript on and off (UX citizen criteria 2 to 9, and 13).

One long journey per mode: errors and their fixes, Back that keeps answers, a question
revealed by an answer, a repeating group, an upload, save and resume on another device,
check answers with a change, submit, a second submit, the confirmation and the receipt.
axe-core checks every page on the way. Separate tests cover the session time-out.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.e2e.accessibility import assert_accessible, javascript_enabled, new_test_context
from tests.e2e.steps import PDF, check_page, choose, continue_, fill_library_card, heading, start_and_answer_about_you
from workflows.models import Case, Draft

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-files"


def test_a_citizen_applies_from_start_to_receipt(any_page: Page, live_server, library_card, browser: Browser):
    page = any_page
    js = javascript_enabled(page)

    # 2. The start page: purpose, time, documents, other ways, how to resume.
    page.goto(live_server.url)
    page.get_by_role("link", name="Library card").click()
    heading(page, "Library card")
    for section in ("How long it takes", "What you will need", "Saving your answers", "Other ways to apply"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    check_page(page, "start page")
    page.get_by_role("button", name="Start now").click()

    # 3, 5. A question page: back, one h1, Continue; the step indicator.
    heading(page, "About you")
    expect(page.get_by_role("button", name="Back", exact=True)).to_be_visible()
    expect(page.locator(".usa-step-indicator__heading-counter")).to_have_text("Step 1 of 3")
    expect(page.locator('[aria-current="step"]')).to_contain_text("About you")
    check_page(page, "first question page")

    # 4. Errors: nothing checked on blur; on Continue, the summary above the h1 has focus.
    page.get_by_label("Full name").fill("Ana Lima")
    page.get_by_label("Email address").fill("ana at example")
    page.get_by_label("Date of birth").focus()
    expect(page.locator(".usa-error-message")).to_have_count(0)
    continue_(page)
    expect(page).to_have_title(re.compile(r"^Error: About you"))
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    assert page.locator("#error-summary, h1").evaluate_all("els => els.map(e => e.id || e.tagName)") == [
        "error-summary",
        "H1",
    ]
    expect(page.locator("#field-email-error")).to_have_text(re.compile(r"^\s*Error:\s+Email address: Enter an email"))
    expect(page.get_by_label("Full name")).to_have_value("Ana Lima")
    check_page(page, "question page with errors")
    summary.get_by_role("link", name=re.compile("^Email address:")).click()
    if js:
        expect(page.get_by_label("Email address")).to_be_focused()
    else:
        assert page.url.endswith("#field-email")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_label("Date of birth").fill("1988-03-14")
    continue_(page)

    # 3. Back saves: what was typed on the address page is there when coming forward again.
    heading(page, "Where you live")
    page.get_by_label("Street address").fill("12 Harbor Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("ZIP code").fill("97403")
    page.get_by_label("Proof of address").set_input_files(
        files=[FilePayload(name="utility-bill.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    page.get_by_role("button", name="Back", exact=True).click()
    heading(page, "About you")
    expect(page.get_by_label("Full name")).to_have_value("Ana Lima")
    continue_(page)
    heading(page, "Where you live")
    expect(page.get_by_label("Street address")).to_have_value("12 Harbor Street")
    expect(page.locator(".uploaded-files__name")).to_have_text("utility-bill.pdf")
    check_page(page, "page with an address and an upload")
    continue_(page)

    # A question revealed by an answer: live with JavaScript, asked before moving on without.
    heading(page, "Your card")
    choose(page, "Pick it up at a branch")
    if js:
        expect(page.get_by_label("Which branch?")).to_be_visible()
    else:
        expect(page.get_by_label("Which branch?")).to_have_count(0)
        choose(page.get_by_role("group", name="Do you also want cards for children under 13?"), "Yes")
        continue_(page)
        expect(page.get_by_text("We have added questions to this page")).to_be_visible()
    page.get_by_label("Which branch?").select_option("Harbor")
    choose(page.get_by_role("group", name="Do you also want cards for children under 13?"), "Yes")
    check_page(page, "page with a revealed question")
    continue_(page)

    # A repeating group: add another, fill it, remove it again.
    heading(page, "Cards for children")
    expect(page.locator(".usa-step-indicator__heading-counter")).to_have_text("Step 4 of 4")
    page.get_by_label("Child's full name").fill("Leo Lima")
    page.get_by_label("Child's date of birth").fill("2019-07-02")
    page.get_by_role("button", name="Add another child").click()
    second = page.locator('[data-repeat-item="children.1"]')
    expect(second).to_be_visible()
    if js:
        expect(second.get_by_label("Child's full name")).to_be_focused()
    second.get_by_label("Child's full name").fill("Mia Lima")
    second.get_by_label("Child's date of birth").fill("2021-01-30")
    check_page(page, "repeating group with two items")
    page.get_by_role("button", name=re.compile("^Remove this child – Child 2")).click()
    expect(page.locator('[data-repeat-item="children.1"]')).to_have_count(0)
    expect(page.get_by_label("Child's full name")).to_have_value("Leo Lima")

    # 6. Save and come back later, then resume on another device from the e-mailed link.
    page.get_by_role("button", name="Save and come back later").click()
    if js:
        expect(page.locator("[data-save-status]")).to_contain_text("Saved at")
        page.locator("[data-save-status]").get_by_role("link", name="Get a link to come back later").click()
    heading(page, "Your answers are saved")
    check_page(page, "saved page")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_text("We have sent a link to ana@example.org")).to_be_visible()
    found = re.search(r"https?://\S+/resume/\S+/", str(mail.outbox[-1].body))
    assert found is not None
    link = found.group(0)

    other_device = new_test_context(browser, javascript=js).new_page()
    other_device.goto(link)
    heading(other_device, "Cards for children")
    expect(other_device.get_by_label("Child's full name")).to_have_value("Leo Lima")
    page = other_device
    continue_(page)

    # 7. Check answers: sections, "Not provided", a change that comes back here.
    heading(page, "Check your answers before submitting")
    for section in ("About you", "Where you live", "Your card", "Cards for children"):
        expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    phone_row = page.locator(".check-answers__row", has_text="Phone number")
    expect(phone_row.locator(".check-answers__answer")).to_have_text("Not provided")
    expect(page.locator(".check-answers__row", has_text="Proof of address")).to_contain_text("utility-bill.pdf")
    check_page(page, "check answers")
    page.get_by_role("link", name="Change full name").click()
    heading(page, "About you")
    page.get_by_label("Full name").fill("Ana Maria Lima")
    page.get_by_role("button", name="Continue to check answers").click()
    heading(page, "Check your answers before submitting")
    expect(page.locator(".check-answers__row").first).to_contain_text("Ana Maria Lima")

    # 9. Submit, and the confirmation page.
    page.get_by_role("button", name="Agree and submit").click()
    heading(page, "Application submitted")
    reference = page.locator("[data-reference]").inner_text()
    assert re.fullmatch(r"LC-\d{4}-\d{6}", reference)
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_role("heading", name="Questions about your application")).to_be_visible()
    expect(page.get_by_role("link", name="Tell us what you thought of applying online")).to_be_visible()
    check_page(page, "confirmation")
    confirmation = page.url
    page.reload()  # the page can be bookmarked
    expect(page.locator("[data-reference]")).to_have_text(reference)

    # The receipt prints (or saves as PDF) with the answers.
    page.get_by_role("link", name=re.compile("printable receipt")).click()
    expect(page.locator("[data-reference]")).to_have_text(reference)
    expect(page.get_by_text("Ana Maria Lima")).to_be_visible()
    if js:
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    check_page(page, "receipt")

    # The browser's Back button to check answers, and submitting again, makes no second case.
    page.goto(confirmation)
    page.go_back()
    page.go_back()
    if page.get_by_role("button", name="Agree and submit").count():
        page.get_by_role("button", name="Agree and submit").click()
        expect(page.locator("[data-reference]")).to_have_text(reference)
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert case.data["full_name"] == "Ana Maria Lima"
    assert [child["name"] for child in case.data["children"]] == ["Leo Lima"]


def test_a_second_submit_shows_the_first_reference(any_page: Page, live_server, library_card):
    page = any_page
    draft = fill_library_card(page, live_server)
    check_url = page.url
    second_tab = page.context.new_page()
    second_tab.goto(check_url)
    page.get_by_role("button", name="Agree and submit").click()
    reference = page.locator("[data-reference]").inner_text()
    second_tab.get_by_role("button", name="Agree and submit").click()
    expect(second_tab.get_by_role("heading", level=1)).to_have_text("You have already submitted this application")
    expect(second_tab.locator("[data-reference]")).to_have_text(reference)
    assert_accessible(second_tab, context="already submitted")
    assert Case.objects.count() == 1
    assert Draft.objects.get(pk=draft.pk).case == Case.objects.get()


def test_the_session_warns_before_it_ends_and_then_says_answers_were_kept(
    page: Page, live_server, library_card, settings
):
    settings.CIVICFLOW_FORM_IDLE_SECONDS = 4
    start_and_answer_about_you(page, live_server)
    warning = page.get_by_role("alertdialog", name="Your session is about to end")
    expect(warning).to_be_visible(timeout=5_000)
    expect(warning.get_by_role("button", name="Continue")).to_be_focused()
    assert_accessible(page, context="session time-out warning")
    warning.get_by_role("button", name="Continue").click()
    expect(warning).to_be_hidden()
    # Left alone, the page closes itself and says what happened.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session has ended", timeout=10_000)
    expect(page.get_by_text("Your answers were kept")).to_be_visible()
    assert_accessible(page, context="session ended")
    assert Draft.objects.get().data["full_name"] == "Ana Lima"


def test_without_javascript_an_ended_session_says_answers_were_kept(
    page_without_js: Page, live_server, library_card, settings
):
    settings.CIVICFLOW_FORM_IDLE_SECONDS = 2
    page = page_without_js
    start_and_answer_about_you(page, live_server)
    page.wait_for_timeout(3_000)
    continue_(page)
    heading(page, "Your session has ended")
    expect(page.get_by_text("Your answers were kept")).to_be_visible()
    page.get_by_role("button", name="Email me a link to continue").click()
    expect(page.get_by_text("We have sent a link to a•••@example.org")).to_be_visible()
    assert_accessible(page, context="session ended, no JavaScript")


def test_page_not_found_is_plain(any_page: Page, live_server, library_card):
    any_page.goto(f"{live_server.url}/no/such/page/")
    heading(any_page, "Page not found")
    check_page(any_page, "404")


def test_a_long_form_is_walked_from_a_task_list(any_page: Page, live_server, library_card, tmp_path):
    from tests.workflows.apply_steps import publish_with_task_list

    publish_with_task_list(tmp_path)
    page = any_page
    page.goto(f"{live_server.url}/programs/library-card/")
    page.get_by_role("button", name="Start now").click()
    heading(page, "Library card")
    expect(page.get_by_text("You’ve completed 0 of 3 sections.")).to_be_visible()
    expect(page.get_by_role("link", name="Where you live")).to_have_count(0)  # cannot start yet
    expect(page.locator(".task-list__item", has_text="Where you live")).to_contain_text("Cannot start yet")
    check_page(page, "task list")
    page.get_by_role("link", name="About you").click()
    heading(page, "About you")
    expect(page.locator(".usa-step-indicator")).to_have_count(0)
    page.get_by_label("Full name").fill("Ana Lima")
    page.get_by_label("Date of birth").fill("1988-03-14")
    page.get_by_label("Email address").fill("ana@example.org")
    continue_(page)
    expect(page.get_by_text("You’ve completed 1 of 3 sections.")).to_be_visible()
    expect(page.locator(".task-list__item", has_text="About you")).to_contain_text("Completed")
    expect(page.get_by_role("link", name="Where you live")).to_be_visible()
    check_page(page, "task list with a completed section")


def test_changing_language_keeps_what_was_typed(page: Page, live_server, library_card):
    page.goto(f"{live_server.url}/programs/library-card/")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Full name").fill("Ana Lima")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("关于您")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_label("全名")).to_have_value("Ana Lima")
    assert_accessible(page, context="question page in Chinese")
