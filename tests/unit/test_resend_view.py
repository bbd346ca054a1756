"""The read model a resend answers with, built from the row it just queued."""

from datetime import UTC, datetime
from uuid import UUID

from app.notifications.ports import NewNotification
from app.notifications.resend import queued_view

ROW = NewNotification(
    id=UUID(int=7),
    order_uuid=UUID(int=3),
    kind="order_confirmation",
    item="resend-2",
    template="order_confirmation_he",
    language="he",
    params=["Avi", "IL251101GB07"],
    phone="972541112233",
    created_at=datetime(2025, 11, 3, 12, tzinfo=UTC),
)


def test_a_queued_confirmation_names_its_row_and_recipient() -> None:
    view = queued_view(ROW)
    assert (view.id, view.order_id, view.item, view.phone) == (
        UUID(int=7),
        UUID(int=3),
        "resend-2",
        "972541112233",
    )
    assert (view.kind, view.template, view.language) == (
        "order_confirmation",
        "order_confirmation_he",
        "he",
    )


def test_a_queued_confirmation_has_been_neither_tried_nor_sent() -> None:
    view = queued_view(ROW)
    assert (view.status, view.attempts, view.provider_message_id) == ("queued", 0, None)
    assert [view.sent_at, view.delivered_at, view.read_at, view.failed_at] == [None] * 4
    assert view.failure_reason is None
