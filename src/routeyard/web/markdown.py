"""The little Markdown that model descriptions use, as safe HTML (pure).

Descriptions come from catalogs (OpenRouter's among them): paragraphs, links
(``[Model Card](https://…)``), ``**strong**``, ``*emphasis*``/``_emphasis_`` and
```code```. Everything is HTML-escaped first, so no HTML of the source passes through; only
the tags made here appear, and a link is made only to an ``http``/``https`` address (any
other, ``javascript:`` included, stays text). Whatever else is Markdown stays as written.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\((https?://[^\s()<>\"]{1,2000})\)")
_CODE = re.compile(r"`([^`\n]{1,500})`")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_EM = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"
                 r"|(?<![\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w])")
_HOLE = re.compile("\x00([0-9]+)\x00")


def _escape(text: str) -> str:
    return str(escape(text))


def _inline(text: str) -> str:
    """One paragraph of source text as HTML."""
    held: list[str] = []  # links and code, kept out of the emphasis rules

    def hold(piece: str) -> str:
        held.append(piece)
        return f"\x00{len(held) - 1}\x00"

    text = text.replace("\x00", "")
    # Links and code first, on the raw text; their parts are escaped where they are made.
    text = _CODE.sub(lambda m: hold(f"<code>{_escape(m[1])}</code>"), text)
    text = _LINK.sub(lambda m: hold(
        f'<a href="{_escape(m[2])}" rel="nofollow noopener noreferrer">'
        f"{_escape(m[1])}</a>"), text)
    text = _escape(text)
    text = _STRONG.sub(lambda m: f"<strong>{m[1] or m[2]}</strong>", text)
    text = _EM.sub(lambda m: f"<em>{m[1] or m[2]}</em>", text)
    text = text.replace("\n", "<br>\n")
    return _HOLE.sub(lambda m: held[int(m[1])], text)


def render(source: str) -> Markup:
    """``source`` as HTML paragraphs (blank lines part them)."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", source.replace("\r\n", "\n"))]
    return Markup("\n".join(f"<p>{_inline(p)}</p>" for p in paragraphs if p))
