"""In-memory fakes of the ports, for unit tests of handlers: no database, no broker, no vendor."""

from tests.fakes.access import DuplicateKeyPrefix, FakeApiKeys, FakeUsers
from tests.fakes.deliveries import DeliveryEventRow, FakeDeliveries
from tests.fakes.documents import FakeDocumentReads, FakeDocuments
from tests.fakes.idempotency import FakeIdempotency
from tests.fakes.messaging import FakeContactSyncs, FakeMessageTexts, FakeNotifications
from tests.fakes.operations import FakeFailedJobs, FakeWorkflowRuns, FakeWorkflows
from tests.fakes.orders import FakeOrders, FakePayloads, FakeUnitLogs
from tests.fakes.rows import ContactSyncRow, NotificationRow
from tests.fakes.store import FakeStore
from tests.fakes.uow import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.fakes.vendors import (
    FakeBusinessLog,
    FakeContactSync,
    FakeHasher,
    FakeJobs,
    FakeKeyUsage,
    FakeMessaging,
    FakeWorkflowReads,
)

__all__ = [
    "ContactSyncRow",
    "DeliveryEventRow",
    "DuplicateKeyPrefix",
    "FakeApiKeys",
    "FakeBusinessLog",
    "FakeContactSync",
    "FakeContactSyncs",
    "FakeDeliveries",
    "FakeDocumentReads",
    "FakeDocuments",
    "FakeFailedJobs",
    "FakeHasher",
    "FakeIdempotency",
    "FakeJobs",
    "FakeKeyUsage",
    "FakeMessageTexts",
    "FakeMessaging",
    "FakeNotifications",
    "FakeOrders",
    "FakePayloads",
    "FakeStore",
    "FakeUnitLogs",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeUsers",
    "FakeWorkflowReads",
    "FakeWorkflowRuns",
    "FakeWorkflows",
    "NotificationRow",
]
