"""The contacts slice: syncing an order's customer to the CRM, and the admin's resync."""

from __future__ import annotations

from functools import partial

from app.contacts.commands import ResyncContact, SyncContact
from app.contacts.handlers import resync_contact
from app.contacts.policies import JOB_POLICIES as JOBS
from app.contacts.policies import SYNC_CONTACT
from app.contacts.sync import sync_contacts
from app.groups import Groups
from visapi.platform import Platform
from visapi.slices import Slice

__all__ = ["JOBS", "build"]


def build(p: Platform) -> Slice[None]:
    uow, now = p.uow, p.now
    # The syncs one process runs at the same time share their transactions (app/groups.py).
    syncs = Groups(
        SYNC_CONTACT,
        partial(sync_contacts, uow=uow, contacts=p.vendors.contacts, now=now, new_id=p.new_id),
        max_size=p.settings.job_group_size,
        metrics=p.metrics,
    )
    return Slice(
        None,
        {
            SyncContact: syncs.submit,
            ResyncContact: partial(resync_contact, uow=uow, now=now),
        },
    )
