"""PDF documents from HTML templates with xhtml2pdf, stored under a folder on disk.

A template may embed only what it carries itself (`data:` URIs). Every other resource, a public
URL, an internal one or a file, is refused: the worker's network position and its working
directory (where the embedded database lives) are not a template author's to read.
"""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.vendors import VendorError

# What a refused URI is replaced with: an empty inline resource, so nothing is fetched.
_NOTHING = "data:,"


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
        from xhtml2pdf.config.resources import ResourceAccessPolicy

        refused: list[str] = []

        def link_callback(uri: object, _relative: object) -> str:
            # Consulted for <img src>, <link href>, CSS url() and @import, @font-face and the
            # pdf: tags. Returning nothing would keep the URI, so a refused one is rewritten.
            text = str(uri)
            if text.startswith("data:"):
                return text
            refused.append(text)
            return _NOTHING

        # The fetcher's own gate behind the callback, for the call sites xhtml2pdf does not
        # route through it (watermarks, page backgrounds): no network, no local directory.
        policy = ResourceAccessPolicy.server(base_dir=None, allow_remote=False)
        status = pisa.CreatePDF(
            html, dest=buffer, link_callback=link_callback, resource_policy=policy
        )
        if refused:
            shown = ", ".join(repr(uri[:120]) for uri in dict.fromkeys(refused))
            raise VendorError(
                "validation",
                f"pdf: the template refers to {shown}; only data: URIs may be embedded"
                " (no URLs, no files)",
            )
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
