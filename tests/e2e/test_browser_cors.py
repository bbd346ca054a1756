"""CORS in a real browser (Debian's chromium, headless): a page served from another origin calls
/graphql with an API key and shows the data; the same page from an origin not listed is refused
by the browser itself (its fetch rejects), and shows that instead."""

from __future__ import annotations

import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson

from tests.processes import CLI, ROOT, base_env, servers
from tests.services import unavailable

QUERY = "{ orders(first: 5) { totalCount edges { node { orderId } } } }"
CREATE = """mutation { createOrder(payload: {order: {id: "IL251101GB07", branch: "il", amount: 165,
  currency: "ILS"}, form: {country: "uk", client: {name: "Avi Cohen", email: "avi@example.com",
  phone: {code: "+972", number: "0541112233"}, whatsappAlertsEnabled: true},
  product: {country: "uk", docType: "eta", validity: "2_years", wait: 3}}}) { __typename } }"""

# The frontend: a fetch with the key in a header (so the browser sends a preflight first), its
# answer or its failure written into the page, which --dump-dom prints once the page settles.
PAGE = """<!doctype html>
<html><body><p id="result">waiting</p>
<script>
const shown = document.getElementById("result");
fetch(%(api)s + "/graphql", {
  method: "POST",
  headers: {"Content-Type": "application/json", "X-API-Key": %(key)s},
  body: JSON.stringify({query: %(query)s}),
})
  .then(async (response) => {
    const body = await response.json();
    const orders = body.data.orders;
    const remaining = response.headers.get("X-RateLimit-Remaining");
    shown.textContent = "orders: " + orders.totalCount + " "
      + orders.edges.map((e) => e.node.orderId).join(",") + " remaining: " + remaining;
  })
  .catch((error) => { shown.textContent = "refused: " + error.name; });
</script></body></html>
"""


@contextmanager
def page_server(page: dict[str, str]) -> Iterator[str]:
    """A second tiny HTTP server on 127.0.0.1 serving `page["html"]` (filled in once the API's
    address is known); a page's GET of `/result?<text>` sets `page["result"]`; yields its
    origin."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/result?"):  # what a page reports of itself
                page["result"] = urllib.parse.unquote(self.path.split("?", 1)[1])
                self.send_response(204)
                self.end_headers()
                return
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def shown(browser: str, url: str, profile: Path) -> str:
    """What the page's #result says once its scripts and fetches have settled."""
    dom = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--virtual-time-budget=8000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    start = dom.index('<p id="result">') + len('<p id="result">')
    return dom[start : dom.index("</p>", start)]


def test_a_page_of_a_listed_origin_reads_graphql_and_another_is_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        unavailable("chromium is not installed (apt-get install chromium; .ci/run does)")
    env = base_env(VISAPI_DATABASE_URL=sqlite_url)
    created = subprocess.run(
        [*CLI, "keys", "create", "--name", "frontend", "--scopes", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = created.stdout.strip()
    page = {"html": ""}
    # The same page from two origins (two ports): only the first is listed.
    with page_server(page) as listed, page_server(page) as other:
        env["VISAPI_CORS_ORIGINS"] = f"https://app.example.com, {listed}"
        with servers(env, tmp_path, 1) as (api,):
            made = httpx.post(f"{api}/graphql", json={"query": CREATE}, headers={"X-API-Key": key})
            assert made.json() == {"data": {"createOrder": {"__typename": "OrderAccepted"}}}
            page["html"] = PAGE % {
                "api": orjson.dumps(api).decode(),
                "key": orjson.dumps(key).decode(),
                "query": orjson.dumps(QUERY).decode(),
            }
            allowed = shown(browser, f"{listed}/", tmp_path / "profile-listed")
            refused = shown(browser, f"{other}/", tmp_path / "profile-other")
            # Asked without a browser, the server answers that origin like any client: the
            # refusal was the browser's, for want of an Access-Control-Allow-Origin.
            direct = httpx.post(
                f"{api}/graphql", json={"query": QUERY}, headers={"X-API-Key": key, "Origin": other}
            )
    assert allowed.startswith("orders: 1 IL251101GB07 remaining: "), allowed
    assert allowed.split("remaining: ")[1].isdigit()  # an exposed header, readable
    assert refused == "refused: TypeError", refused
    assert direct.json()["data"]["orders"]["totalCount"] == 1
    assert "access-control-allow-origin" not in direct.headers
