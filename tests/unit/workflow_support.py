"""Shared pieces of the workflow handler unit tests: workflows stored through the handler, and
the enabled list read from the fake store as the cached query would answer it."""

from __future__ import annotations

import uuid
from typing import Any

from app.workflows.commands import CreateWorkflow
from app.workflows.handlers import create_workflow
from app.workflows.ports import WorkflowView
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock
from tests.workflow_docs import valid


async def create(uow: FakeUnitOfWorkFactory, **changes: Any) -> WorkflowView:
    cmd = CreateWorkflow(valid(**changes), actor="admin:ana")
    return await create_workflow(cmd, uow=uow, cache=None, now=Clock(), new_id=uuid.uuid4)


def enabled_of(uow: FakeUnitOfWorkFactory) -> Any:
    async def enabled() -> list[WorkflowView]:
        return [w for w in uow.store.workflows.values() if w.enabled]

    return enabled
