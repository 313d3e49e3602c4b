"""Paging without counting: a page of rows and whether there is another, read in one query.

Django's Paginator counts every matching row to say "page 3 of 9,800"; on the obligation calendar
(hundreds of thousands of instances) and the vendor register that count alone grows with the data,
so the pages would slow down as Steward is used. A window reads one row more than it shows, which
is enough for "previous" and "next", and costs the same at any size when the ordering has an index
(issue 5's performance clause; ``bench/bench_vendors.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Window:
    """Page NUMBER (from 1) of SIZE rows of a queryset, with ``has_next``/``has_previous`` and the
    page numbers either side, like a Paginator page but without ``paginator.count``."""

    def __init__(self, rows: Any, number: Any, size: int) -> None:
        try:
            self.number = max(1, min(int(number or 1), 100_000))
        except (TypeError, ValueError):
            self.number = 1
        offset = (self.number - 1) * size
        fetched = list(rows[offset : offset + size + 1])
        self.has_next = len(fetched) > size
        self.object_list = fetched[:size]
        self.has_previous = self.number > 1

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def __bool__(self) -> bool:
        return bool(self.object_list)

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
