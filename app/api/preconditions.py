"""ETag and If-Match for FAQ entries: a write that names the revision it read fails if the
entry has changed since, instead of silently overwriting another editor's change.

An entry's entity tag is its revision, quoted ("42"): the store revision of its last change,
also the `revision` field of every FAQ body. Two editors who both read revision 42 cannot both
save: the second one's PATCH with `If-Match: "42"` gets 412 and the current ETag.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, where etagc may be a comma, so
# a list is read tag by tag. A bare revision (42, the quotes forgotten) is read as "42".
_ITEM = re.compile(r'\s*(?:(W/)?"([^"]*)"|([^",\s]+))\s*(?:,|$)')


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The revisions an If-Match header accepts; None for no condition (no header, or "*":
    the entry need only exist, and a missing one is a 404 either way). Weak tags (W/"7")
    never match: If-Match compares strongly (RFC 9110 §13.1.1). Anything that is not a
    revision matches no entry, so a garbled header fails safe: 412, nothing written."""
    if value is None or value.strip() == "*":
        return None
    revisions: set[int] = set()
    position = 0
    while position < len(value):
        match = _ITEM.match(value, position)
        if match is None or match.end() == position:
            return frozenset()  # garbled: read no part of it as a revision
        weak, quoted, bare = match.groups()
        tag = bare if quoted is None else quoted
        if not weak and tag and tag.isascii() and tag.isdecimal() and len(tag) <= 18:
            revisions.add(int(tag))
        position = match.end()
    return frozenset(revisions)


async def read_if_match(
    # Typed `str`, not `str | None`: a header is absent or a string, and a nullable schema
    # has clients (and fuzzers) send the text "null".
    if_match: Annotated[
        str,
        Header(
            description='write only if the entry is still at this revision: its ETag, e.g. '
            '"42" (a list, or * for any); otherwise 412 precondition_failed, nothing written',
        ),
    ] = None,  # type: ignore[assignment]
) -> frozenset[int] | None:
    return parse_if_match(if_match)


IfMatch = Annotated[frozenset[int] | None, Depends(read_if_match)]
