"""Keyset pagination for the API's lists: an opaque ``cursor``, a ``limit``, and a ``next`` link.

A page is read as "the rows after this one" in a total order (a timestamp, then the primary
key), never by offset: rows written while a client pages do not shift the pages, so nothing is
read twice or skipped, and the cost of a page does not grow with its depth. The cursor is the
last row's position, base64-encoded; it is opaque to clients, and one that does not decode is a
422 pointing at ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from rest_framework import exceptions, serializers
from rest_framework.request import Request

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class PageQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """The paging parameters every list takes."""

    cursor = serializers.CharField(required=False, max_length=200, help_text="the `next` link's cursor")
    limit = serializers.IntegerField(
        required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT, help_text=f"at most {MAX_LIMIT}"
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last row's ordering timestamp and primary key."""

    at: datetime
    pk: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            at, _, pk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
            position = cls(datetime.fromisoformat(at), int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise exceptions.ValidationError({"cursor": ["this is not a cursor from a next link"]}) from None
        if position.at.tzinfo is None or not 0 < position.pk < 2**63:  # beyond a bigint, the database would fail
            raise exceptions.ValidationError({"cursor": ["this is not a cursor from a next link"]})
        return position


def page[Row: Model](
    rows: QuerySet[Row], request: Request, query: dict[str, Any], *, field: str, newest_first: bool
) -> tuple[list[Row], str | None]:
    """One page of ``rows`` (already in ``field, pk`` order) after ``query``'s cursor, and the next page's link.

    ``query`` is the validated ``PageQuerySerializer`` data (with any filters). The link keeps the
    request's own parameters, with the cursor replaced; it is None on the last page.
    """
    limit: int = query["limit"]
    cursor = query.get("cursor")
    if cursor:
        after = Position.decode(cursor)
        older = "lt" if newest_first else "gt"
        rows = rows.filter(Q(**{f"{field}__{older}": after.at}) | Q(**{field: after.at, f"pk__{older}": after.pk}))
    found = list(rows[: limit + 1])
    if len(found) <= limit:
        return found, None
    found = found[:limit]
    last = found[-1]
    params = request.query_params.copy()
    params["cursor"] = Position(getattr(last, field), last.pk).encode()
    return found, f"{request.path}?{params.urlencode()}"
