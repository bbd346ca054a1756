"""Subscriptions from browsers: a page of a listed origin subscribes over WebSocket in Debian's
chromium and shows the first push, the same page from an origin not listed is refused at the
handshake; and GraphiQL's own fetcher (visapi/static/graphiql/visapi.js), run by Node against
the server, subscribes over SSE with the headers of its Headers tab."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import orjson

from tests.e2e.test_browser_cors import page_server
from tests.processes import CLI, ROOT, base_env, servers
from tests.services import unavailable
from tests.waiting import until

PAGE = """<!doctype html>
<html><body><p id="result">waiting</p>
<script>
const shown = document.getElementById("result");
// Reported to the page's server: the test waits for it in real time (a headless dump would be
// taken by virtual time, which does not wait for a WebSocket).
const report = (text) => {
  shown.textContent = text;
  fetch("/result?" + encodeURIComponent(text));
};
const ws = new WebSocket(%(ws)s, "graphql-transport-ws");
const init = {type: "connection_init", payload: {"X-API-Key": %(key)s}};
ws.onopen = () => ws.send(JSON.stringify(init));
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "connection_ack") {
    ws.send(JSON.stringify({id: "1", type: "subscribe",
                            payload: {query: "subscription { queueStats { queue } }"}}));
  } else if (message.type === "next") {
    report("queues: " + message.payload.data.queueStats.map((q) => q.queue).join(","));
    ws.close(1000);
  }
};
ws.onclose = (event) => {
  if (shown.textContent === "waiting") report("refused: " + event.code);
};
</script></body></html>
"""

# GraphiQL's script with the browser's globals stubbed: the fetcher it hands GraphiQL is run on
# a subscription, and its first result printed.
NODE = """
global.window = {location: {pathname: %(url)s}};
global.GraphiQL = {createFetcher: () => () => { throw new Error("not a subscription"); }};
global.document = {getElementById: () => null};
let fetcher;
global.React = {createElement: (component, props) => { fetcher = props.fetcher; }};
global.ReactDOM = {createRoot: () => ({render: () => {}})};
require(%(script)s);
(async () => {
  const results = fetcher({query: "# a comment\\nsubscription { queueStats { queue } }"},
                          {headers: {"X-API-Key": %(key)s}});
  for await (const result of results) {
    console.log(JSON.stringify(result));
    process.exit(0);
  }
})();
"""


def reported(browser: str, url: str, page: dict[str, str], profile: Path) -> str:
    """What the page reports of itself (`/result`), waited for in real time."""
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        until(lambda: "result" in page, timeout_s=60, why=f"{url} reported nothing")
    finally:
        process.kill()
        process.wait(timeout=10)
    return page["result"]


def _admin(env: dict[str, str]) -> str:
    created = subprocess.run(
        [*CLI, "keys", "create", "--name", "browser", "--scopes", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return created.stdout.strip()


def test_a_listed_origin_subscribes_over_websocket_and_another_is_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        unavailable("chromium is not installed (apt-get install chromium; .ci/run does)")
    env = base_env(VISAPI_DATABASE_URL=sqlite_url)
    key = _admin(env)
    first: dict[str, str] = {"html": ""}
    second: dict[str, str] = {"html": ""}
    with page_server(first) as listed, page_server(second) as other:
        env["VISAPI_CORS_ORIGINS"] = listed
        with servers(env, tmp_path, 1) as (api,):
            first["html"] = second["html"] = PAGE % {
                "ws": orjson.dumps(api.replace("http://", "ws://") + "/graphql").decode(),
                "key": orjson.dumps(key).decode(),
            }
            allowed = reported(browser, f"{listed}/", first, tmp_path / "profile-listed")
            refused = reported(browser, f"{other}/", second, tmp_path / "profile-other")
    assert allowed == "queues: critical,default,bulk", allowed
    assert refused == "refused: 1006", refused  # the handshake got 403: no socket at all


def test_graphiql_s_fetcher_subscribes_over_sse(sqlite_url: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    env = base_env(VISAPI_DATABASE_URL=sqlite_url)
    key = _admin(env)
    script = ROOT / "visapi" / "static" / "graphiql" / "visapi.js"
    with servers(env, tmp_path, 1) as (api,):
        program = NODE % {
            "url": orjson.dumps(f"{api}/graphql").decode(),
            "script": orjson.dumps(str(script)).decode(),
            "key": orjson.dumps(key).decode(),
        }
        ran = subprocess.run(
            [node, "-e", program], capture_output=True, text=True, timeout=60, check=False
        )
    assert ran.returncode == 0, ran.stderr
    first = orjson.loads(ran.stdout.splitlines()[0])
    assert [q["queue"] for q in first["data"]["queueStats"]] == ["critical", "default", "bulk"]
