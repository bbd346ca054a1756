"""The composition root in memory: `bootstrap` with fakes routes every command a resolver, route,
actor or process sends (found in their source) and every command class of app/*/commands.py to
a handler, and every job a policy writes names an actor of the registry with arguments it takes.
Bootstrap opens no connection, so this runs without a database or Redis."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from app.actors import actor_registry
from app.contacts.policies import SYNC_CONTACT
from app.jobs import check_jobs
from domain.contacts.events import ContactResyncRequested
from domain.jobs import FailedJobReplayed
from domain.notifications.events import NotificationQueued
from domain.orders.bulk import BulkBatchDue
from domain.orders.model import OrderCreated, OrderRetriggered
from domain.workflows.model import WorkflowRunQueued
from infrastructure.cache.memory import MemoryCache
from tests.fakes import FakeBusinessLog, FakeUnitOfWorkFactory, FakeWorkflowReads
from visapi.bootstrap import FEATURES, Container, bootstrap
from visapi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SENDERS = ("graph", "rest", "app", "visapi")  # where commands are built and handed to the bus
# Dataclasses of app/*/commands.py that are answers of handlers, never sent to the bus.
RESULTS = {
    "IssuedKey",
    "OrderAccepted",
    "OrderSkipped",
    "OrderRejected",
    "OrderRetriggered",
    "JobReplayed",
    "AlreadyReplayed",
    "ActorUnknown",
    "JobsReplayed",
    "ConfirmationQueued",
    "Pushed",
}


@pytest.fixture
async def container() -> AsyncIterator[Container]:
    built = bootstrap(
        Settings(),
        uow=FakeUnitOfWorkFactory(),
        cache=MemoryCache(),
        business_log=FakeBusinessLog(),
        workflow_reads=FakeWorkflowReads(),
    )
    yield built
    await built.aclose()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _called_classes(node: ast.AST) -> list[str]:
    return [
        n.func.id
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id[:1].isupper()
    ]


def _handed(call: ast.Call) -> ast.expr | None:
    """The command of `x.handle(cmd)` or `partial(x.handle, cmd)`."""
    func, args = call.func, call.args
    if isinstance(func, ast.Attribute) and func.attr == "handle" and args:
        return args[0]
    is_partial = isinstance(func, ast.Name) and func.id == "partial"
    if is_partial and len(args) >= 2 and isinstance(args[0], ast.Attribute):
        return args[1] if args[0].attr == "handle" else None
    return None


def _sent_names(tree: ast.Module) -> Iterator[tuple[int, list[str]]]:
    """(line, class names) of each command handed to a bus: built in the call, or assigned to
    the name handed in the same function; else every class the module builds (a helper taking
    the command as a parameter, as graph/repairs.py's `_run`)."""
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(fn):
            arg = _handed(node) if isinstance(node, ast.Call) else None
            if arg is None:
                continue
            names = _called_classes(arg) if isinstance(arg, ast.Call) else []
            if isinstance(arg, ast.Name):
                for a in ast.walk(fn):
                    targets = a.targets if isinstance(a, ast.Assign) else []
                    if isinstance(a, ast.AnnAssign) and a.value is not None:
                        targets = [a.target]
                    if any(isinstance(t, ast.Name) and t.id == arg.id for t in targets):
                        names += _called_classes(a.value)  # type: ignore[union-attr, arg-type]
            yield node.lineno, names or _called_classes(tree)


def sent_commands() -> dict[type, str]:
    """Every app class handed to a bus in the delivery, process and actor code: class → where."""
    found: dict[type, str] = {}
    for package in SENDERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            module = None
            for line, names in _sent_names(tree):
                module = module or importlib.import_module(_module_name(path))
                for name in names:
                    cls = getattr(module, name, None)
                    is_app = inspect.isclass(cls) and cls.__module__.startswith("app.")
                    if is_app and dataclasses.is_dataclass(cls):
                        found.setdefault(cls, f"{path.relative_to(ROOT)}:{line}")
    return found


def declared_commands() -> list[type]:
    """The dataclasses of app/*/commands.py that are not handlers' answers."""
    declared = []
    for path in sorted((ROOT / "app").glob("*/commands.py")):
        module = importlib.import_module(_module_name(path))
        for name, cls in vars(module).items():
            own = inspect.isclass(cls) and cls.__module__ == module.__name__
            if own and dataclasses.is_dataclass(cls) and name not in RESULTS:
                declared.append(cls)
    return declared


def test_the_source_scan_finds_the_commands_of_every_sender() -> None:
    # The scan itself must see something in each kind of sender, or the next test proves nothing.
    where = {place.split("/")[0] for place in sent_commands().values()}
    assert where == set(SENDERS)
    assert len(sent_commands()) >= 25


def test_every_command_sent_to_the_bus_has_a_handler(container: Container) -> None:
    routed = container.bus.commands
    unroutable = {cls.__name__: at for cls, at in sent_commands().items() if cls not in routed}
    assert unroutable == {}


def test_every_command_class_declared_has_a_handler(container: Container) -> None:
    routed = container.bus.commands
    unroutable = [cls.__name__ for cls in declared_commands() if cls not in routed]
    assert unroutable == [], "a command without handler, or an answer missing from RESULTS"


def test_every_handler_is_for_a_command_someone_sends(container: Container) -> None:
    sent = set(sent_commands())
    unsent = sorted(cls.__name__ for cls in container.bus.commands if cls not in sent)
    assert unsent == []


async def test_a_command_of_no_handler_is_refused_naming_it(container: Container) -> None:
    @dataclasses.dataclass(frozen=True)
    class Unknown:
        pass

    with pytest.raises(LookupError, match="no handler for Unknown"):
        await container.bus.handle(Unknown())


# One event of each type a job policy is declared for, with what makes its policy write a job.
AT = datetime(2026, 12, 7, 9, tzinfo=UTC)
ORDER = {
    "order_id": "IL-1",
    "branch": "il",
    "product_country": "uk",
    "is_urgent": False,
    "phone_valid": True,
    "whatsapp_alerts_enabled": True,
}
SAMPLES: dict[type, Any] = {
    OrderCreated: OrderCreated(aggregate_id=uuid4(), occurred_at=AT, **ORDER),
    OrderRetriggered: OrderRetriggered(aggregate_id=uuid4(), occurred_at=AT, **ORDER),
    ContactResyncRequested: ContactResyncRequested(aggregate_id=uuid4(), occurred_at=AT),
    NotificationQueued: NotificationQueued(
        aggregate_id=uuid4(),
        occurred_at=AT,
        notification_id=str(uuid4()),
        kind="confirmation",
        item="order",
    ),
    WorkflowRunQueued: WorkflowRunQueued(
        aggregate_id=uuid4(), occurred_at=AT, workflow_id=str(uuid4()), trigger_type="manual"
    ),
    FailedJobReplayed: FailedJobReplayed(
        aggregate_id=uuid4(),
        occurred_at=AT,
        job_actor=SYNC_CONTACT,
        queue="default",
        arguments={"order_id": str(uuid4())},
    ),
    BulkBatchDue: BulkBatchDue(aggregate_id=uuid4(), occurred_at=AT, position=50),
}


def policies() -> dict[type, Any]:
    return {event: policy for f in FEATURES for event, policy in f.JOBS.items()}


def test_every_job_policy_has_a_sample_event_here() -> None:
    assert set(policies()) == set(SAMPLES)


@pytest.mark.parametrize("event_type", list(SAMPLES), ids=lambda t: t.__name__)
def test_each_policys_jobs_name_a_registered_actor_with_its_arguments(event_type: type) -> None:
    jobs = policies()[event_type](SAMPLES[event_type])
    assert jobs, f"the sample {event_type.__name__} causes no job: nothing would be checked"
    check_jobs(jobs, actor_registry(Settings()))


def test_every_registered_actor_is_written_by_some_policy() -> None:
    written = {j.actor for t, policy in policies().items() for j in policy(SAMPLES[t])}
    # record_notification_sent is enqueued straight to the broker (app.jobs.Jobs), and
    # run_maintenance by the periodic runner, not by a policy.
    assert set(actor_registry(Settings())) - written == {
        "record_notification_sent",
        "run_maintenance",
    }
