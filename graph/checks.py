"""What must hold before an operation executes, in one extension hook.

Strawberry wraps every hook an extension defines on every request (a context manager made
from the method, entered and left: ~50 function calls each, whatever the request sends), and
builds every extension anew per request. The checks before execution are one hook: the
authentication gate first (an anonymous caller hears 401 whatever it asks, cost included),
then the cost limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.cost import CostLimit
from graph.permissions import require_authentication


class ExecutionChecks(SchemaExtension):
    def __init__(self, *, cost: CostLimit) -> None:
        self.cost = cost

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        require_authentication(ctx)
        self.cost.check(ctx)
        yield
