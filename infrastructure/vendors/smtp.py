"""SMTP adapter (implements app.workflows.ports.Mailer) with aiosmtplib."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from app.metrics import NO_METRICS, Metrics
from app.vendors import VendorError
from infrastructure.vendors.metered import metered


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


class SmtpMailer:
    """One connection per message: workflow mail is rare, and no idle connection can go stale."""

    def __init__(self, config: SmtpConfig, *, metrics: Metrics = NO_METRICS) -> None:
        self._config = config
        self._metrics = metrics

    async def send(self, recipient: str, subject: str, body: str) -> Mapping[str, Any]:
        async with metered(self._metrics, "smtp", "mail.send"):
            return await self._send(recipient, subject, body)

    async def _send(self, recipient: str, subject: str, body: str) -> Mapping[str, Any]:
        c = self._config
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = c.sender, recipient, subject
        message.set_content(body)
        try:
            _, answer = await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.user,
                password=c.password,
                start_tls=c.starttls,
                timeout=c.timeout_s,
            )
        except aiosmtplib.SMTPTimeoutError:
            raise VendorError("timeout", "smtp: timed out") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise VendorError("auth", f"smtp: {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # 4xx for a recipient (mailbox busy, greylisting) may pass later; 5xx will not.
            permanent = all(r.code >= 500 for r in exc.recipients)
            category = "validation" if permanent else "vendor_error"
            raise VendorError(category, f"smtp: recipient refused: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is a permanent refusal of this message; 4xx a temporary one.
            category = "validation" if exc.code >= 500 else "vendor_error"
            raise VendorError(category, f"smtp: {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise VendorError("network", f"smtp: {type(exc).__name__}: {exc}") from None
        return {"recipient": recipient, "response": answer[:200]}
