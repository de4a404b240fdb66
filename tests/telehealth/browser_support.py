"""What the telehealth browser tests share: a logged-in session cookie, text as read on the
page, and the audit every page visited gets (axe-core at 1280 px, no sideways scroll at 320 px,
no JavaScript error). The ORM is never called inside `sync_playwright()`: data is prepared
before, these helpers only drive pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.test import Client

from tests.browser.test_booking import _audit, _fits
from tests.coworking.test_manage_browser import _too_wide


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def plain(text: str) -> str:
    """No-break and narrow no-break spaces as plain spaces, runs of spaces as one."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


class PageAudit:
    """Opens pages as a person and audits each: what it finds is collected in `blocking`
    (axe violations by page), `too_wide` and `errors`, asserted after the browser closes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocking: dict[str, list] = {}
        self.too_wide: list[str] = []
        self.errors: list[str] = []

    def open(self, browser, session: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        context.add_cookies([{"name": "sessionid", "value": session, "url": self.base_url}])
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.set_default_timeout(10_000)
        return page

    def inspect(self, page, name: str) -> None:
        """The page as it is: axe-core at 1280 px, then no sideways scroll at 320."""
        self.blocking[name] = _audit(page, name)
        page.set_viewport_size({"width": 320, "height": 640})
        if not _fits(page):
            self.too_wide.append(f"{name}: {_too_wide(page)}")
        page.set_viewport_size({"width": 1280, "height": 900})

    def visit(self, page, path: str) -> None:
        response = page.goto(self.base_url + path)
        assert response.status == 200, path
        assert urlsplit(page.url).path == urlsplit(path).path, (path, page.url)
        self.inspect(page, path)
