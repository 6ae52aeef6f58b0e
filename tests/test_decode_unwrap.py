"""HTML unwrapping: the same result as the plain regexes it replaces, in linear time."""

import html
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.tab.decode import unwrap

# The regexes unwrap used before (quadratic on some inputs): the reference for what it must return.
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z!][^>\n]*>")
_HINT = re.compile(r"<(?i:html|body|br|p|div|pre|head)\b[^>]*>")


def reference_unwrap(text: str) -> str:
    if "<" not in text or not _HINT.search(text):
        return text
    if _PRE.search(text):
        parts, last = [], 0
        for m in _PRE.finditer(text):
            parts.append("\n" * text[last : m.start(1)].count("\n"))
            parts.append(html.unescape(_TAG.sub("", m.group(1))))
            last = m.end(1)
        parts.append("\n" * text[last:].count("\n"))
        return "".join(parts)
    return html.unescape(_TAG.sub("", text))


pieces = st.sampled_from(
    ["<", ">", "/", "pre", "PRE", "p", "a", "!", "\n", " ", "html", "e|-0-|", "&amp;", "12"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=40).map("".join))
def test_unwrap_equals_the_regex_reading(text):
    assert unwrap(text) == reference_unwrap(text)


def test_a_real_page_keeps_its_pre_block():
    page = (
        "<html><body><h1>Song</h1>\n<pre class='tab'>\ne|-0-<b>3</b>-|\nB|---&lt;12&gt;|\n</pre>\n"
        "</body></html>"
    )
    assert unwrap(page) == "\n\ne|-0-3-|\nB|---<12>|\n\n"


REPO = Path(__file__).resolve().parents[1]


def _run_in_subprocess(expr: str, timeout: float) -> None:
    code = textwrap.dedent(f"""
        from tabgen.tab.decode import unwrap
        unwrap({expr})
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=timeout, cwd=REPO)


def test_pathological_html_unwraps_in_seconds_not_minutes():
    # each took 20-30 s with the regexes (quadratic); linear scanning takes milliseconds, so a bound of
    # many seconds (start-up included) cannot be missed by a slow machine but is by quadratic time at 4x
    for expr in ("'<html>' + '<pre>' * 80000", "'<html>' + '<a' * 320000", "'<p' * 320000 + '<html>'",
                 "'<html><pre>' + '</pre' * 80000"):  # fmt: skip
        _run_in_subprocess(expr, timeout=20)
