"""Marketing lists and the access log as downloads (CSV with a BOM for Excel, or XLSX). Every cell a
spreadsheet could read as a formula is neutralised (``kpis.exports.neutralise``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

from kpis.exports import FORMATS, neutralise


def _cell(value: Any) -> Any:
    return neutralise("" if value is None else value)


def table_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], file_format: str) -> bytes:
    if file_format == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("List")
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(c) if isinstance(c, str) else c for c in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def download(body: bytes, file_format: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=FORMATS[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response
