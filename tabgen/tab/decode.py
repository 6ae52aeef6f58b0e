"""Bytes to clean text, and the text of a tab out of its wrapper (HTML, Markdown, reStructuredText).

`decode_bytes` tries, in order: a UTF-8 BOM, a UTF-16 BOM, strict UTF-8, then CP1252 (Latin-1 for
the five bytes CP1252 leaves undefined). Line ends become LF and non-breaking spaces plain spaces, so
that column arithmetic in the parser sees one character per column. Data that is not text (NUL
bytes, control characters, a UTF-16 byte-order mark followed by 8-bit text) raises `InputError`.

`unwrap` keeps line numbers: whatever it drops is replaced by the same number of newlines, so a
diagnostic's line is the line in the file the user opens.
"""

from __future__ import annotations

import codecs
import html
import re

from tabgen.errors import InputError

try:  # the reader's C part (tabgen/tab/_scan.c), when it was built
    from tabgen.tab import _scan
except ImportError:
    _scan = None  # type: ignore[assignment]  # (the checker reads the C part from _scan.pyi)

# Tags are found by scanning, not by regexes such as r"<pre\b[^>]*>(.*?)</pre\s*>": on text with many
# "<pre" or "<a" and no closing ">" those retry the same stretch from every "<" (quadratic time: 100 KB of
# "<pre>" took 33 s). Each scan below moves forward only, so unwrapping is linear in the text.
_PRE_OPEN = re.compile(r"<pre\b", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre\s*>", re.IGNORECASE)
_TAG_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!")  # not "<12>", a harmonic
# only the tag name ignores case: a pattern that starts with a plain "<" is searched for quickly
_HTML_HINT = re.compile(r"<(?i:html|body|br|p|div|pre|head)\b")
# the bytes of UTF-8 text that are no control characters: deleting them leaves the control ones
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(range(0, 9)) - {11} - set(range(14, 32)) - {127}))


def _name(path: str) -> str:
    return path or "<input>"


def _looks_binary(text: str) -> bool:
    """More than 1 control character in 100 (or any NUL) means this is not a text file."""
    if "\x00" in text:
        return True
    sample = text[:65536]
    if _scan is not None:  # the reader's C part counts them in one pass
        controls = _scan.controls(sample)
    else:  # without a regex: control characters are ASCII, one byte each in UTF-8
        controls = len(sample.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL))
    return controls * 100 > len(sample) + 100


def decode_bytes(data: bytes, path: str = "") -> str:
    """Bytes of a tab file to text with LF line ends; raises InputError for binary data."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(
                f"{_name(path)}: broken encoding: a UTF-16 byte-order mark, then no UTF-16 text"
            ) from None
        # A BOM glued onto 8-bit text decodes to pairs of bytes read as CJK and punctuation signs.
        sample = text[:4096]
        plain = sum(1 for ch in sample if ch < "\u0250" or ch.isspace())
        if sample and plain * 10 < len(sample) * 8:
            raise InputError(
                f"{_name(path)}: broken encoding: a UTF-16 byte-order mark then 8-bit text, not UTF-16"
            )
    elif b"\x00" in data:
        raise InputError(f"{_name(path)}: binary data (NUL bytes), not a text file")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    if _looks_binary(text):
        raise InputError(f"{_name(path)}: binary data (control characters), not a text file")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\xa0" in text:
        text = text.replace("\xa0", " ")
    if "\t" in text:
        text = text.expandtabs(8)
    return text


def _blank_out(text: str) -> str:
    return "\n" * text.count("\n")


def _strip_tags(text: str) -> str:
    """`text` without its tags: "<" (or "</"), a letter or "!", then anything but a newline up to ">"."""
    parts: list[str] = []
    last = 0
    n = len(text)
    ends = [-1, -1]  # the next ">" and the next newline at or after the last place looked from
    i = text.find("<")
    while i != -1:
        c = i + 2 if text.startswith("</", i) and i + 2 < n and text[i + 2] in _TAG_START else i + 1
        if c < n and text[c] in _TAG_START:
            for k, ch in enumerate(">\n"):
                if ends[k] != n and ends[k] <= c:  # look again only past the last answer: linear
                    found = text.find(ch, c + 1)
                    ends[k] = n if found == -1 else found
            if ends[0] < ends[1]:  # a ">" before the end of the line: a tag
                parts.append(text[last:i])
                last = ends[0] + 1
                i = text.find("<", last)
                continue
        i = text.find("<", i + 1)
    parts.append(text[last:])
    return "".join(parts)


def _pre_blocks(text: str) -> list[tuple[int, int, int]]:
    """(content start, content end, block end) of each <pre ...>...</pre> block, in order."""
    blocks = []
    pos = 0
    while (m := _PRE_OPEN.search(text, pos)) is not None:
        gt = text.find(">", m.end())
        if gt == -1:  # no ">" after this "<pre": none after any later one either
            break
        close = _PRE_CLOSE.search(text, gt + 1)
        if close is None:  # no "</pre>" after this block's start: none after a later one either
            break
        blocks.append((gt + 1, close.start(), close.end()))
        pos = close.end()
    return blocks


def _looks_like_html(text: str) -> bool:
    m = _HTML_HINT.search(text)
    return m is not None and text.find(">", m.end()) != -1


def unwrap(text: str) -> str:
    """The part of `text` that can hold staves, with line numbers kept.

    HTML: where there is a <pre> block only <pre> contents are kept (tags dropped, entities
    decoded); an HTML page without <pre> loses its tags. Markdown fences and reStructuredText
    directives need no unwrapping: their marker lines are not stave lines and indentation is allowed.
    Linear time in the length of `text`, whatever it holds.
    """
    if "<" not in text or not _looks_like_html(text):
        return text
    blocks = _pre_blocks(text)
    if blocks:
        parts: list[str] = []
        last = 0
        for start, end, _block_end in blocks:
            parts.append(_blank_out(text[last:start]))
            parts.append(html.unescape(_strip_tags(text[start:end])))
            last = end
        parts.append(_blank_out(text[last:]))
        return "".join(parts)
    return html.unescape(_strip_tags(text))
