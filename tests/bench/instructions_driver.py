"""Run under callgrind by tests/bench/instructions.py: W + N sequential requests, in-process.

Imports nothing of tests/ (the app may come from another revision, through PYTHONPATH): the
request bodies arrive as a JSON file. Settings come from the environment (VISAPI_*).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import httpx

try:  # a revision from before issue 12 has its composition root in app/main
    from app.main.asgi import create_app  # type: ignore[import-not-found, unused-ignore]
except ModuleNotFoundError:
    from visapi.asgi import create_app

OID = "__OID__"


async def main(bodies: list[str], warm: int, count: int) -> None:
    app = create_app()
    headers = {"X-API-Key": os.environ["BENCH_API_KEY"], "Content-Type": "application/json"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers
        ) as client,
    ):
        for i in range(warm + count):
            body = bodies[i % len(bodies)].replace(OID, uuid.uuid4().hex[:12])
            answer = await client.post("/graphql", content=body)
            if answer.status_code != 200 or '"errors"' in answer.text:
                raise SystemExit(f"bad answer {answer.status_code}: {answer.text[:300]}")


if __name__ == "__main__":
    bodies = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(main(bodies, int(sys.argv[2]), int(sys.argv[3])))
