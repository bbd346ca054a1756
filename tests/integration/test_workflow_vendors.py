"""Step adapters against real local servers: SMTP sink refusals, a closed port, the fake chat's
answers mapped to the vendor error taxonomy, PDFs written whole."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pypdf
import pytest

from app.vendors import ErrorKind, VendorError
from infrastructure.vendors.pdf import XhtmlPdfDocuments
from infrastructure.vendors.slack import SlackWebhookChat
from infrastructure.vendors.smtp import SmtpConfig, SmtpMailer
from tests.fake_chat import fake_chat
from tests.services import free_port
from tests.smtp_sink import smtp_sink


async def test_smtp_delivers_to_the_sink() -> None:
    with smtp_sink() as sink:
        mailer = SmtpMailer(SmtpConfig("127.0.0.1", sink.port, "from@example.test"))
        result = await mailer.send("to@example.test", "Subject", "Body")
        assert result["recipient"] == "to@example.test"
        (message,) = sink.messages
        assert (message["To"], message["Subject"]) == ("to@example.test", "Subject")


@pytest.mark.parametrize(
    ("reply", "category"),
    [("550 No such user", "validation"), ("451 Try again later", "vendor_error")],
)
async def test_smtp_refusals_are_categorised(reply: str, category: str) -> None:
    with smtp_sink() as sink:
        sink.refuse.append(reply)
        mailer = SmtpMailer(SmtpConfig("127.0.0.1", sink.port, "from@example.test"))
        with pytest.raises(VendorError) as raised:
            await mailer.send("to@example.test", "s", "b")
        assert raised.value.category == category
        assert sink.messages == []


async def test_smtp_unreachable_is_a_network_error() -> None:
    mailer = SmtpMailer(SmtpConfig("127.0.0.1", free_port(), "f@example.test", timeout_s=2))
    with pytest.raises(VendorError) as raised:
        await mailer.send("to@example.test", "s", "b")
    assert raised.value.kind is ErrorKind.TRANSIENT


@pytest.mark.parametrize(
    ("status", "category"),
    [(500, "vendor_error"), (429, "rate_limit"), (403, "auth"), (404, "auth"), (400, "validation")],
)
async def test_chat_answers_map_to_the_taxonomy(status: int, category: str) -> None:
    with fake_chat() as chat:
        slack = SlackWebhookChat(chat.url)
        try:
            chat.fail_next(1, status)
            with pytest.raises(VendorError) as raised:
                await slack.post("#ops", "x")
            assert raised.value.category == category
            assert await slack.post("#ops", "y") == {"status": 200, "channel": "#ops"}
            assert chat.texts() == ["y"]
        finally:
            await slack.aclose()


async def test_chat_timeout_is_a_timeout_error() -> None:
    with fake_chat() as chat:
        slack = SlackWebhookChat(chat.url, timeout_s=0.2)
        try:
            chat.slow_next(1, 1.0)
            with pytest.raises(VendorError) as raised:
                await slack.post("#ops", "x")
            assert raised.value.category == "timeout"
        finally:
            await slack.aclose()


async def test_pdf_is_written_under_the_folder(tmp_path: Path) -> None:
    documents = XhtmlPdfDocuments(tmp_path / "out")
    result = await documents.pdf("<p>Hello</p>", "../escape.pdf")
    path = Path(result["path"])
    assert path == tmp_path / "out" / "escape.pdf"  # no way out of the folder
    content = await asyncio.to_thread(path.read_bytes)
    assert content.startswith(b"%PDF")
    assert result["bytes"] == len(content)
    names = await asyncio.to_thread(lambda: [p.name for p in (tmp_path / "out").iterdir()])
    assert names == ["escape.pdf"]


class _Counting(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"p { color: red }")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[tuple[str, list[str]]]:
    """A web server on 127.0.0.1 and the paths it was asked for."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    _Counting.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Counting.requests
    finally:
        server.shutdown()
        server.server_close()


# A 1x1 PNG: what a template may embed, inline.
_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)
_REACHING_OUT = {
    "img": '<img src="{web}/logo.png">',
    "img-file": '<img src="visapi.db">',
    "img-file-uri": '<img src="file://{cwd}/visapi.db">',
    "img-absolute": '<img src="{cwd}/visapi.db">',
    "link": '<link rel="stylesheet" href="{web}/a.css"><link rel="stylesheet" href="visapi.db">',
    "import": '<style>@import url("{web}/i.css"); @import "visapi.db";</style>',
    "css-url": '<style>p {{ background-image: url("{web}/bg.png") }}</style>',
    "font-face": '<style>@font-face {{ font-family: F; src: url("{web}/f.ttf") }}</style>',
    "page-background": '<style>@page {{ background-image: url("{web}/pg.pdf") }}</style>',
}


@pytest.mark.parametrize("vector", sorted(_REACHING_OUT))
async def test_pdf_refuses_every_url_and_file(
    vector: str,
    web: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded database lives in the working directory; a template must not read it, nor
    make the worker fetch anything (issue 11, finding 8)."""
    url, requests = web
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "visapi.db").write_text("MARKER-FROM-THE-DATABASE")
    monkeypatch.chdir(cwd)
    template = _REACHING_OUT[vector].format(web=url, cwd=cwd) + "<p>Receipt</p>"
    documents = XhtmlPdfDocuments(tmp_path / "out")
    with pytest.raises(VendorError) as refused:
        await documents.pdf(template, "r.pdf")
    assert refused.value.kind is ErrorKind.PERMANENT
    assert "only data: URIs may be embedded" in refused.value.message
    assert url in refused.value.message or "visapi.db" in refused.value.message
    assert requests == []
    assert not (tmp_path / "out").exists()


async def test_pdf_embeds_data_uris(tmp_path: Path) -> None:
    documents = XhtmlPdfDocuments(tmp_path)
    result = await documents.pdf(f'<img src="data:image/png;base64,{_PNG}"><p>Hi</p>', "d.pdf")
    reader = pypdf.PdfReader(result["path"])
    assert len(reader.pages[0].images) == 1
    assert "Hi" in reader.pages[0].extract_text()
