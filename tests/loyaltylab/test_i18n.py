"""The UI speaks Chinese and English: complete catalogs, negotiation and the language switcher."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from loyaltylab import i18n, i18n_tools

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Every msgid of templates and code, extracted afresh and read back from a .pot file."""
    path = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with path.open("wb") as handle:
        write_po(handle, i18n_tools.extract())
    with path.open("rb") as handle:
        return read_po(handle)


def test_extraction_sees_every_kind_of_msgid(extracted: Catalog) -> None:
    expected = {
        "Skip to content": "templates/base.html",
        "There is a problem": "templates/_macros.html",
        "Members of %(name)s": "templates/accounts/members.html",
        "The study has been created.": "studies/routes.py",  # flash(request, msgid)
        "The e-mail address or password is not right.": "accounts/service.py",  # InvalidInput
        "This invitation has expired. Ask for a new one.": "accounts/service.py",  # NotFound
        "Only owners can do this.": "deps.py",  # PermissionDenied
        "Too many failed attempts. Try again in %(seconds)s seconds.": "accounts/service.py",
        "This form has expired. Please reload the page and try again.": "security.py",  # CsrfFailed
        "This page does not exist.": "app.py",  # i18n.gettext
        "Researcher": "i18n.py",  # N_ in the role labels
    }
    for msgid, source in expected.items():
        message = extracted.get(msgid)
        assert message is not None, f"not extracted: {msgid!r}"
        assert any(path.endswith(source) for path, _ in message.locations), message.locations
    assert "message" not in extracted  # a dictionary key is not a msgid


@pytest.mark.parametrize("locale", i18n_tools.TRANSLATED_LOCALES)
def test_catalog_translates_every_msgid(extracted: Catalog, locale: str) -> None:
    catalog = i18n_tools.read_catalog(i18n_tools.po_path(locale), locale)
    assert i18n_tools.problems(extracted, catalog) == []


@pytest.mark.parametrize("locale", i18n_tools.TRANSLATED_LOCALES)
def test_catalog_has_no_stale_entries(extracted: Catalog, locale: str) -> None:
    catalog = i18n_tools.read_catalog(i18n_tools.po_path(locale), locale)
    stale = {m.id for m in catalog if m.id} - {m.id for m in extracted if m.id}
    assert not stale, "run `python -m loyaltylab.i18n_tools update` to drop: " + repr(stale)


def test_check_reports_missing_empty_fuzzy_and_broken_placeholders() -> None:
    template = Catalog()
    for msgid in ("Save", "Cancel", "Edit", "Join %(name)s", "Remove", "Page 1 of 4"):
        template.add(msgid)
    catalog = Catalog(locale="zh_CN")
    catalog.add("Save", "保存")
    catalog.add("Page 1 of 4", "第 1 页,共 4 页")
    catalog.add("Cancel", "")
    catalog.add("Edit", "编辑", flags=["fuzzy"])
    catalog.add("Join %(name)s", "加入 %(org)s", flags=["python-format"])
    found = i18n_tools.problems(template, catalog)
    assert "untranslated: 'Cancel'" in found
    assert "fuzzy: 'Edit'" in found
    assert "missing: 'Remove'" in found
    assert any("Join %(name)s" in problem and "placeholder" in problem for problem in found)
    assert "half-width punctuation in Chinese ['页,']: 'Page 1 of 4'" in found
    assert not any("'Save'" in problem for problem in found)


@pytest.mark.parametrize(
    ("role", "english", "chinese"), [("owner", "Owner", "所有者"), ("client", "Client", "客户")]
)
def test_role_labels_are_translated(role: str, english: str, chinese: str) -> None:
    i18n.set_locale("zh_CN")
    try:
        assert i18n.role_label(role) == chinese
    finally:
        i18n.set_locale("en")
    assert i18n.role_label(role) == english


def html_lang(text: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', text)
    assert match, "no <html lang>"
    return match.group(1)


def test_accept_language_chooses_chinese(client) -> None:
    page = client.get("/login", headers=ZH)
    assert page.status_code == 200
    assert html_lang(page.text) == "zh-CN"
    assert '<h1 id="page-title">登录</h1>' in page.text
    assert "跳到主要内容" in page.text
    assert "Skip to content" not in page.text

    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert html_lang(english.text) == "en"
    assert "Skip to content" in english.text


def test_form_errors_are_shown_in_chinese(client, csrf) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"email": "nobody@example.com", "password": "wrong password", "csrf_token": token},
        headers=ZH,
    )
    assert response.status_code == 400
    assert "电子邮箱地址或密码不正确。" in response.text
    assert "出现问题" in response.text


def test_switcher_sets_the_language_for_the_session_and_back(client, csrf) -> None:
    token = csrf(client, "/login")
    switched = client.post(
        "/language",
        data={"lang": "zh_CN", "next": "/signup", "csrf_token": token},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/signup"

    # The session's choice beats the browser's Accept-Language.
    page = client.get("/signup", headers={"Accept-Language": "en"})
    assert html_lang(page.text) == "zh-CN"
    assert "创建账户" in page.text
    assert 'aria-current="true" class="current">中文</button>' in page.text

    client.post("/language", data={"lang": "en", "next": "/signup", "csrf_token": token})
    back = client.get("/signup", headers=ZH)
    assert html_lang(back.text) == "en"
    assert "Create an account" in back.text
    assert 'aria-current="true" class="current">English</button>' in back.text


def test_signed_in_pages_and_flashes_in_chinese(client, csrf, owner, login) -> None:
    login(client, owner.email)
    token = csrf(client, "/studies/new")
    client.post("/language", data={"lang": "zh_CN", "next": "/", "csrf_token": token})
    created = client.post(
        "/studies", data={"name": "顾客忠诚度 2026", "csrf_token": token}, follow_redirects=True
    )
    assert "研究项目已创建。" in created.text  # a flash msgid, translated when shown
    members = client.get("/org/members")
    assert "Northwind Research 的成员" in members.text
    assert ">所有者</option>" in members.text
    assert "Owner" not in members.text


def test_templates_keep_to_the_content_security_policy() -> None:
    """No inline styles or scripts: the CSP (style-src/script-src 'self') would block them."""
    offenders = []
    for template in Path(i18n.__file__).with_name("templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)|\son[a-z]+=", text):
            offenders.append(template.name)
    assert offenders == []


@pytest.mark.parametrize("domain", i18n_tools.KEYED_DOMAINS, ids=lambda domain: domain.domain)
def test_keyed_domains_are_complete_in_every_locale(domain) -> None:
    """The report's texts, the questionnaire problems and the respondent's words: what
    ``i18n_tools check`` checks besides the interface's catalog."""
    source = i18n_tools.read_catalog(i18n_tools.po_path("en", domain), "en")
    assert len(source) > 20
    for locale in i18n_tools.TRANSLATED_LOCALES:
        catalog = i18n_tools.read_catalog(i18n_tools.po_path(locale, domain), locale)
        assert i18n_tools.keyed_problems(source, catalog) == []


def test_keyed_check_reports_missing_texts_and_changed_placeholders() -> None:
    source = Catalog(locale="en")
    source.add("progress", "Page {current} of {total}")
    source.add("next", "Next")
    catalog = Catalog(locale="zh_CN")
    catalog.add("progress", "第 {current} 页,共 {pages} 页")
    found = i18n_tools.keyed_problems(source, catalog)
    assert "missing: 'next'" in found
    assert "placeholders differ from the English text: 'progress'" in found


def test_chinese_labels_before_a_value_take_the_full_width_colon(
    researcher, session, wave, followup_case, alert_rule
) -> None:
    """A label and its value are one msgid, so Chinese gets ``截止时间：`` and not ``截止时间:``."""
    wave.target = 4
    session.add(wave)
    session.commit()
    pages = {
        "/cases": ["截止时间：", "处理人：尚未分配"],
        f"/waves/{wave.id}/alerts": ["预警：0"],
        f"/waves/{wave.id}": ["目标完成度：0%"],
    }
    for path, expected in pages.items():
        page = researcher.get(path, headers=ZH)
        assert page.status_code == 200, path
        for text in expected:
            assert text in page.text, (path, text)
        assert not re.search(r"[\u4e00-\u9fff]: ", page.text), path
