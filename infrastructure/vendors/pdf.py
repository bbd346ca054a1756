"""PDF documents from HTML templates with xhtml2pdf, stored under a folder on disk."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.vendors import VendorError


class XhtmlPdfDocuments:
    """Implements app.workflows.ports.Documents. Rendering is CPU work: it runs in a thread."""

    def __init__(self, folder: str | Path) -> None:
        self._folder = Path(folder)

    async def pdf(self, html: str, filename: str) -> Mapping[str, Any]:
        return await asyncio.to_thread(self._render, html, filename)

    def _render(self, html: str, filename: str) -> Mapping[str, Any]:
        buffer = io.BytesIO()
        # Imported on first use: xhtml2pdf and reportlab weigh ~25 MB per process, and only
        # workers running a pdf.generate step need them (API processes never do).
        from xhtml2pdf import pisa

        status = pisa.CreatePDF(html, dest=buffer)
        if status.err:
            raise VendorError(
                "validation", f"pdf: the template did not render ({status.err} errors)"
            )
        self._folder.mkdir(parents=True, exist_ok=True)
        target = self._folder / Path(filename).name
        # Write then rename: a reader never sees half a file, a replay overwrites cleanly.
        partial = target.with_suffix(f".{uuid.uuid4().hex[:8]}.part")
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, target)
        return {"path": str(target), "bytes": len(buffer.getvalue())}
