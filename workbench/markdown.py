"""A small, safe Markdown renderer for the project's own documentation pages.

Covers what ``docs/*.md`` use: headings, paragraphs, fenced code, lists, pipe tables, inline
code, bold, italics and links. Every character of the source is HTML-escaped before any markup
is added, and links keep only ``http(s)``, relative and ``#`` targets, so a document can never
inject script or style (the CSP forbids both anyway). No Markdown library is installed; this
is deliberately not a general one.
"""

import html
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST_ITEM = re.compile(r"^(\s*)([-*]|\d+\.)\s+(.*)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(https?://|/|#|[\w.-]+(/[\w.#-]*)*$)")


def slug(text: str) -> str:
    """Return the anchor of a heading: lower case, words joined by hyphens."""
    words = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[\s]+", "-", words.strip())


def inline(text: str) -> str:
    """Render one line's inline markup; the text is escaped first."""
    codes: list[str] = []

    def keep(match):
        codes.append(f"<code>{html.escape(match.group(1), quote=False)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep, text)
    text = html.escape(text, quote=False)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)

    def link(match):
        label, url = match.group(1), html.unescape(match.group(2))
        if not _SAFE_URL.match(url):
            return label
        return f'<a href="{html.escape(url)}">{label}</a>'

    text = _LINK.sub(link, text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _table(lines: list[str]) -> str:
    head, body = _cells(lines[0]), [_cells(row) for row in lines[2:]]
    out = ['<div class="table-scroll"><table class="table"><thead><tr>']
    out += [f'<th scope="col">{inline(c)}</th>' for c in head]
    out.append("</tr></thead><tbody>")
    for row in body:
        out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _list(lines: list[str]) -> str:
    ordered = bool(re.match(r"^\s*\d+\.", lines[0]))
    items: list[str] = []
    for line in lines:
        match = _LIST_ITEM.match(line)
        if match and len(match.group(1)) < 2:
            items.append(match.group(3))
        elif items:
            items[-1] += " " + line.strip()
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>"


def render(source: str) -> str:
    """Return the HTML of ``source`` (Markdown); safe to mark as safe."""
    out: list[str] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            code = html.escape("\n".join(lines[i + 1 : end]), quote=False)
            out.append(f"<pre><code>{code}</code></pre>")
            i = end + 1
            continue
        if not line.strip():
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level, text = len(heading.group(1)), heading.group(2).strip()
            out.append(f'<h{level} id="{slug(text)}">{inline(text)}</h{level}>')
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].strip() and not lines[i].startswith("```"):
            if block and _HEADING.match(lines[i]):
                break
            block.append(lines[i])
            i += 1
        if len(block) >= 2 and block[0].lstrip().startswith("|") and _TABLE_RULE.match(block[1]):
            out.append(_table(block))
        elif _LIST_ITEM.match(block[0]):
            out.append(_list(block))
        else:
            out.append("<p>" + inline(" ".join(b.strip() for b in block)) + "</p>")
    return "\n".join(out)
