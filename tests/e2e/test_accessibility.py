"""axe-core finds no WCAG 2.2 A/AA violation on the site's pages, with JavaScript on and off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route

from tests.e2e.accessibility import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("axe_core_js")]

# A one-pixel GIF, so the broken page below asks nothing of any server.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


@pytest.mark.usefixtures("library_card")
def test_the_catalogue_is_accessible(any_page: Page, live_server) -> None:
    response = any_page.goto(live_server.url)
    assert response is not None
    assert response.status == 200
    assert any_page.get_by_role("link", name="Library card").count() == 1  # the demo program is listed
    assert_accessible(any_page, context="catalogue with the demo program")


def test_the_staff_sign_in_page_is_accessible(any_page: Page, live_server) -> None:
    response = any_page.goto(f"{live_server.url}/accounts/login/")
    assert response is not None
    assert response.status == 200
    assert_accessible(any_page, context="staff sign-in")


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("/account/create/", "create an account"),
        ("/account/sign-in/", "citizens' sign-in"),
        ("/account/check-email/", "check your email"),
        ("/account/password-reset/", "password reset"),
        ("/account/verify/not-a-real-link/", "confirmation link that does not work"),
    ],
)
def test_the_citizens_account_pages_are_accessible(any_page: Page, live_server, path: str, context: str) -> None:
    response = any_page.goto(f"{live_server.url}{path}")
    assert response is not None
    assert response.status in {200, 404}
    assert_accessible(any_page, context=context)


def test_the_create_account_page_with_errors_is_accessible(any_page: Page, live_server) -> None:
    any_page.goto(f"{live_server.url}/account/create/")
    any_page.get_by_label("Email address").fill("not-an-address")
    any_page.get_by_role("button", name="Create account").click()
    assert any_page.get_by_role("heading", name="There is a problem").count() == 1
    assert_accessible(any_page, context="create an account, with an error")


def test_the_api_reference_page_is_accessible(any_page: Page, live_server) -> None:
    response = any_page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None
    assert response.status == 200
    assert any_page.get_by_role("cell", name="/api/v1/programs/{slug}/submissions").count() == 1
    assert_accessible(any_page, context="API reference")


def test_the_page_not_found_is_accessible(any_page: Page, live_server) -> None:
    response = any_page.goto(f"{live_server.url}/no-such-page/")
    assert response is not None
    assert response.status == 404
    assert_accessible(any_page, context="404")


def _serve(page: Page, url: str, html: str) -> None:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    page.route(url, fulfil)


def test_the_check_fails_on_a_field_without_a_label_and_an_image_without_alt(any_page: Page, live_server) -> None:
    url = f"{live_server.url}/accessibility-harness/broken/"
    _serve(
        any_page,
        url,
        f"""<!doctype html><html lang="en"><head><title>Broken on purpose</title></head>
        <body><main><h1>Broken on purpose</h1><input type="text" name="nameless"><img src="{PIXEL}"></main></body></html>""",
    )
    any_page.goto(url)

    with pytest.raises(AssertionError) as failure:
        assert_accessible(any_page, context="harness self-test")

    report = str(failure.value)
    assert "label:" in report
    assert "image-alt:" in report
    assert '<input type="text" name="nameless">' in report  # the failing element, as HTML
    assert url in report
    assert "harness self-test" in report


def test_the_check_computes_colour_contrast_with_the_sites_own_stylesheet(any_page: Page, live_server) -> None:
    # Without JavaScript the page is checked as a copy: its stylesheet must still come
    # from the live server, or near-white text on white would pass. (axe leaves exactly
    # white on white, and text flush with the edge of its background, as "needs review":
    # hence the lightest grey, and padding.)
    url = f"{live_server.url}/accessibility-harness/contrast/"
    _serve(
        any_page,
        url,
        """<!doctype html><html lang="en"><head><title>Pale text</title>
        <link rel="stylesheet" href="/static/uswds/css/uswds.min.css"></head>
        <body><main class="bg-white padding-4"><h1>Pale text</h1><p class="text-base-lightest" id="pale">Hard to read</p></main></body></html>""",
    )
    any_page.goto(url)

    with pytest.raises(AssertionError) as failure:
        assert_accessible(any_page)

    report = str(failure.value)
    assert "color-contrast:" in report
    assert "#pale" in report


def test_without_javascript_the_check_sees_noscript_content_and_runs_no_script(
    page_without_js: Page, live_server
) -> None:
    # If the copy ran the page's script, the unlabelled field would be gone; if it did
    # not unwrap <noscript>, the image without alt would not be rendered.
    url = f"{live_server.url}/accessibility-harness/noscript/"
    _serve(
        page_without_js,
        url,
        f"""<!doctype html><html lang="en"><head><title>Without JavaScript</title></head>
        <body><main><h1>Without JavaScript</h1><input type="text" id="plain">
        <noscript><img src="{PIXEL}"></noscript>
        <script>document.getElementById("plain").remove();</script></main></body></html>""",
    )
    page_without_js.goto(url)

    with pytest.raises(AssertionError) as failure:
        assert_accessible(page_without_js)

    report = str(failure.value)
    assert "label:" in report
    assert "image-alt:" in report
    assert "JavaScript off" in report
