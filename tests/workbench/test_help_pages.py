"""In-app help: the rule-pack format page, rendered from docs/rule-packs.md, escaped."""

from django.urls import reverse

from workbench import markdown
from workbench.roles import Role


def test_the_rule_pack_editor_links_to_the_rendered_format_page(cast):
    page = cast.client(Role.COMPLIANCE_LEAD).get(reverse("rulepacks:new", args=["acme"]))
    assert reverse("help_rule_packs") in page.content.decode()
    help_page = cast.client(Role.ANALYST).get(reverse("help_rule_packs"))
    body = help_page.content.decode()
    assert help_page.status_code == 200
    assert '<h1 id="rule-packs">Rule packs</h1>' in body and "<pre><code>" in body
    assert '<th scope="col">' in body  # tables


def test_the_help_page_requires_login(cast):
    response = cast.client("anonymous").get(reverse("help_rule_packs"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_markdown_escapes_html_and_drops_unsafe_links():
    html = markdown.render(
        "# T <script>\n\n<img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](/ok) `<b>`"
    )
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "javascript:" not in html
    assert '<a href="/ok">b</a>' in html and "<code>&lt;b&gt;</code>" in html
