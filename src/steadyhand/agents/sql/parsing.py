"""Reading a model's reply: a query to run, the word SUBMIT, or neither.

The reply format is kept small enough for a 135M-parameter model to follow:

* a fenced block - ```` ```sql ... ``` ```` - runs that query (the first block wins;
  a block left open because generation stopped still counts, and an unlabelled
  fence counts when its text starts like a query);
* failing a fence, a bare ``SELECT`` / ``WITH`` statement starting a line is used;
* the word ``SUBMIT`` (and no query) submits the last executed query.

Only the first statement of a query is kept: text after its terminating
semicolon is dropped, as is a trailing semicolon, so prose the model adds after
its SQL never reaches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_BARE = re.compile(r"^[ \t>*-]*((?:SELECT|WITH)\b.*)", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_SUBMIT = re.compile(r"\bSUBMIT\b")
_SQL_START = re.compile(r"\s*\(?\s*(SELECT|WITH|PRAGMA|EXPLAIN|VALUES)\b", re.IGNORECASE)
_SQL_TAGS = {"sql", "sqlite", "postgresql", "postgres", "psql", "mysql", "tsql", "plsql"}


@dataclass(frozen=True)
class Reply:
    """What a reply asks for.

    Attributes:
        kind: ``sql`` (run ``query``), ``submit`` (submit the last executed query)
            or ``none`` (nothing usable; ``problem`` says why, for the model).
        query: the extracted statement, for ``sql``.
        problem: a one-line description of what was wrong, for ``none``.
    """

    kind: Literal["sql", "submit", "none"]
    query: str = ""
    problem: str = ""


def first_statement(sql: str) -> str:
    """The first statement of ``sql``, without comments, stripped.

    The text is cut at the first semicolon outside quotes (``'``, ``"``, backticks,
    ``[...]``); ``--`` and ``/* */`` comments are removed, so neither a semicolon
    in a string literal nor a trailing comment can break the statement.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`[":
            close = "]" if ch == "[" else ch
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:  # doubled quote escapes
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            out.append(" ")
            i = n if end < 0 else end + 2
        elif ch == ";":
            break
        else:
            out.append(ch)
            i += 1
    return "\n".join(line.rstrip() for line in "".join(out).splitlines()).strip()


def _clean(sql: str) -> str:
    return first_statement(sql.replace("`" * 3, "\n"))


def _bare_statement(text: str) -> str:
    match = _BARE.search(text)
    if not match:
        return ""
    body = match.group(1)
    # A bare statement ends at its semicolon or at the first blank line (prose follows).
    body = re.split(r"\n[ \t]*\n", body, maxsplit=1)[0]
    return _clean(body)


def _fenced_statement(text: str) -> str:
    parts = text.split("`" * 3)
    for inside in parts[1::2]:  # odd parts are inside fences; a fence left open still counts
        info, _, body = inside.partition("\n")
        tag = info.strip().lower()
        if tag in _SQL_TAGS:
            candidate = body
        elif _SQL_START.match(info):  # ```SELECT 1``` on one line
            candidate = inside
        elif not tag and _SQL_START.match(body):
            candidate = body
        else:
            continue
        query = _clean(candidate)
        if query:
            return query
    return ""


def parse_reply(text: str) -> Reply:
    """Classify a model reply; never raises.

    >>> parse_reply("```sql\\nSELECT 1;\\n``` done").query
    'SELECT 1'
    >>> parse_reply("SUBMIT").kind
    'submit'
    """
    query = _fenced_statement(text)
    if query:
        return Reply("sql", query=query)
    query = _bare_statement(text)
    if query:
        return Reply("sql", query=query)
    if _SUBMIT.search(text):
        return Reply("submit")
    if "```" in text:
        return Reply("none", problem="The code block held no SQL query.")
    if not text.strip():
        return Reply("none", problem="The reply was empty.")
    return Reply("none", problem="The reply had no ```sql block and was not SUBMIT.")
