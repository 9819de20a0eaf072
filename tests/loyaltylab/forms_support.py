"""Reading and submitting the forms of a page as a browser without JavaScript would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient


class _Forms(HTMLParser):
    """The POST forms of a page: action -> {field: value} as the browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method") == "post":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif self._form is None:
            return
        elif tag == "input" and "name" in a and a.get("type") not in ("checkbox", "radio"):
            self._form[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option" and self._select and ("selected" in a or self._select not in self._form)
        ):
            self._form[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data.removeprefix("\n")


def page_forms(html: str) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submit(client: TestClient, page: str, action: str, /, **changes: str) -> Any:
    """Open ``page``, fill its form posting to ``action`` with ``changes``, send it."""
    forms = page_forms(client.get(page).text)
    assert action in forms, f"no form posting to {action} on {page}: {list(forms)}"
    return client.post(action, data={**forms[action], **changes}, follow_redirects=False)
