"""Model descriptions' Markdown as safe HTML (routeyard.web.markdown, pure), and on the
model page."""

from __future__ import annotations

from routeyard.web.markdown import render


def test_links_emphasis_code_and_paragraphs() -> None:
    source = ("Read the [Model Card](https://example.com/card?a=1&b=2) for **details**.\n"
              "It is *fast* and _cheap_, see `max_tokens`.\n\nSecond paragraph.")
    assert render(source) == (
        '<p>Read the <a href="https://example.com/card?a=1&amp;b=2" '
        'rel="nofollow noopener noreferrer">Model Card</a> for <strong>details</strong>.<br>\n'
        "It is <em>fast</em> and <em>cheap</em>, see <code>max_tokens</code>.</p>\n"
        "<p>Second paragraph.</p>")


def test_no_html_passes_through() -> None:
    source = ('<script>alert(1)</script> <img src=x onerror=alert(1)> '
              '[x](javascript:alert(1)) [y](https://a.example/"onmouseover="alert(1))')
    out = str(render(source))
    assert "<script" not in out and "<img" not in out and "javascript:" in out
    assert 'href="javascript' not in out and "onmouseover=\"" not in out
    assert out.count("<a ") == 0
    assert "&lt;script&gt;" in out


def test_urls_with_underscores_and_stars_stay_whole() -> None:
    out = str(render("[a_b](https://x.example/a_b_c*d) and snake_case_name, 2 * 3 * 4"))
    assert 'href="https://x.example/a_b_c*d"' in out and ">a_b</a>" in out
    assert "snake_case_name" in out and "2 * 3 * 4" in out and "<em>" not in out


def test_empty_and_blank_descriptions() -> None:
    assert render("") == "" and render("\n\n  \n") == ""
