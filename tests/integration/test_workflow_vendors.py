"""Step adapters against real local servers: SMTP sink refusals, a closed port, the fake chat's
answers mapped to the vendor error taxonomy, PDFs written whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
