"""The contacts slice: syncing an order's customer to the CRM, and the admin's resync."""

from __future__ import annotations

from functools import partial

from app.contacts.commands import ResyncContact, SyncContact
from app.contacts.handlers import resync_contact, sync_contact
from app.contacts.policies import JOB_POLICIES as JOBS
from visapi.platform import Platform
from visapi.slices import Slice

__all__ = ["JOBS", "build"]


def build(p: Platform) -> Slice[None]:
    uow, now = p.uow, p.now
    return Slice(
        None,
        {
            SyncContact: partial(
                sync_contact, uow=uow, contacts=p.vendors.contacts, now=now, new_id=p.new_id
            ),
            ResyncContact: partial(resync_contact, uow=uow, now=now),
        },
    )
