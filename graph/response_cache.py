"""The response cache at /graphql: a read's answer served without parsing or executing when
cached, and the HTTP caching headers of every answer.

Before Strawberry runs, the request's document hash (sha256 of its text, or the hash it was
sent by), operation name, variables and the caller's permissions make the key; the document's
plan (graph.cache_control, computed once per document and operation) says whether it may be
cached, for how long, and which prefixes' generations it is stored under (app.responses). A hit
is answered from the stored bytes; a miss runs as usual and its answer is stored when it has
no errors.

HTTP: POST answers are `no-store`. GET answers of cacheable documents are
`private, max-age=N` (every cacheable field needs a permission, so the answer depends on the
caller's credentials: a shared cache must not keep it), other GET answers `no-store`; every
GET 200 carries an ETag (a hash of the body), and `If-None-Match` naming it gets 304.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Scope

from app.documents.ports import DocumentsMode
from app.responses import (
    PREFETCHED,
    Lookup,
    Probe,
    ResponseCache,
    caller_key,
    entry_key,
    principal_key,
)
from domain.auth.permissions import Principal
from graph.cache_control import Plans
from graph.document_refs import Reference, reference_of, with_document_id
from graph.errors import CodedError
from graph.http_caching import hit_answer, storable, with_http_caching
from graph.persisted import RegisteredDocuments

# Probes a process keeps by raw request, and the longest request remembered (bytes).
MAX_PROBES = 1024
MAX_REMEMBERED_BYTES = 4096
JSON = "application/json"

Answer = Callable[[Request], Awaitable[Response]]


def sent_by_hash(data: Mapping[str, Any]) -> Reference | None:
    """The registered document a request names (Apollo's `extensions.persistedQuery`, Relay's
    `documentId`/`doc_id`), or None, also for a malformed reference (the view refuses it)."""
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        return None
    try:
        return reference_of(with_document_id(dict(data), extensions))
    except CodedError:
        return None


class Responses:
    """The view's hook: `answer(request, run)` wraps the normal path with the cache (when
    `cache` and its `plans` are given) and the HTTP caching headers (always)."""

    def __init__(
        self,
        negotiate: Callable[[str], str],
        cache: ResponseCache | None = None,
        plans: Plans | None = None,
        *,
        path: str = "/graphql",
        registered: RegisteredDocuments | None = None,
        mode: DocumentsMode = DocumentsMode.ANY,
    ) -> None:
        if (cache is None) != (plans is None):
            raise ValueError("the response cache needs the plans of its schema")
        self.negotiate = negotiate
        self.path = path
        self.cache = cache
        self.plans = plans
        # Registered documents this process holds (graph.persisted): a request naming one by id
        # is planned from its stored text. Under VISAPI_DOCUMENTS=persisted|trusted a document
        # sent as text is never answered from the cache, so the mode's rule (only registered
        # documents, admins aside) is applied by the normal path each time.
        self.registered = registered
        self.mode = mode
        # Probes by raw request (b"G" + query string, b"P" + body), oldest first.
        self._probes: OrderedDict[bytes, Probe] = OrderedDict()
        self._lock = threading.Lock()

    async def answer(self, request: Request, run: Answer) -> Response:
        started = time.perf_counter()
        lookup = await self._lookup(request) if self.cache is not None else None
        if self.cache is not None and lookup is not None and lookup.body is not None:
            response = self._cached(request, lookup, lookup.body)
            self.cache.served(lookup, time.perf_counter() - started)
            return response
        response = await run(request)
        if isinstance(response, StreamingResponse):
            return response  # a subscription over SSE: nothing to cache or validate
        if self.cache is not None and lookup is not None and storable(response):
            await self.cache.keep(lookup, bytes(response.body))
        return with_http_caching(request, response, lookup)

    def _cached(self, request: Request, lookup: Lookup, body: bytes) -> Response:
        """A hit's answer, its headers built at once (the hot path)."""
        headers = request.headers
        status, fields, body = hit_answer(
            request.method,
            self.negotiate(headers.get("accept", "")),
            headers.get("if-none-match"),
            lookup.max_age,
            body,
        )
        return Response(body, status, headers=fields)

    def answer_hit(
        self,
        scope: Scope,
        probe: Probe,
        principal: Principal,
        body: bytes,
        generations: str,
        started: float,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The answer of a hit the admission found for `principal` (rest.cached_answers, in
        front of the stack): status, raw headers and body, counted as `answer` counts one."""
        assert self.cache is not None
        key = principal_key(probe.key, principal)
        lookup = self.cache.looked_up(probe, key, body, generations)
        accept, etag = b"", None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name == b"if-none-match":
                etag = value.decode("latin-1")
        method = scope["method"]
        media = self.negotiate(accept.decode("latin-1"))
        status, fields, body = hit_answer(method, media, etag, lookup.max_age, body)
        self.cache.served(lookup, time.perf_counter() - started)
        return status, [(k.encode(), v.encode("latin-1")) for k, v in fields.items()], body

    async def _lookup(self, request: Request) -> Lookup | None:
        state = request.scope.get("state") or {}
        principal = state.get("principal")
        if principal is None or self.cache is None:
            return None  # every cacheable field needs a permission: anonymous gets 401
        held = [p.value for p in principal.permissions]
        prefetched = state.get(PREFETCHED)
        if prefetched is not None:  # the gate looked it up with the admission
            probe, (body, generations) = prefetched
            return self.cache.looked_up(probe, caller_key(probe.key, held), body, generations)
        if request.method == "GET":
            probe = self.prefetch(request.scope, learn=True)
        else:
            raw = await request.body() if _is_json(request) else b""
            probe = self._probe_of(b"P" + raw, lambda: _body_data(raw)) if raw else None
        if probe is None:
            return None
        return await self.cache.lookup(probe, held)

    def prefetch(self, scope: Scope, *, learn: bool = False) -> Probe | None:
        """The probe of a GET request, from its query string alone (no body to read), for the
        gate to look its answer up with the admission; None for anything else. Only `learn`
        parses a document not planned yet: the gate runs before credentials are verified."""
        if self.cache is None or scope.get("method") != "GET" or scope.get("path") != self.path:
            return None
        raw = scope.get("query_string", b"")
        return self._probe_of(b"G" + raw, lambda: _query_data(raw), learn)

    def _probe_of(
        self, raw: bytes, parse: Callable[[], Mapping[str, Any] | None], learn: bool = True
    ) -> Probe | None:
        """The probe of a request by its raw bytes: parsing the URL or body and hashing the
        document are done once per distinct request (a dashboard repeats the same few)."""
        probe = self._probes.get(raw)
        if probe is not None:
            return probe
        data = parse()
        probe = self.probe(data, learn=learn) if data is not None else None
        # Only cacheable requests are remembered (an unknown hash may become known), and only
        # short ones: the table is bounded by count.
        if probe is not None and len(raw) <= MAX_REMEMBERED_BYTES:
            with self._lock:
                self._probes[raw] = probe
                while len(self._probes) > MAX_PROBES:
                    self._probes.popitem(last=False)
        return probe

    def probe(self, data: Mapping[str, Any], *, learn: bool = True) -> Probe | None:
        """The probe of a request's GraphQL parameters, or None when its answer may not be
        cached (or the request is malformed: the view will say how), or, unless `learn`, its
        document was not planned yet."""
        cache, plans = self.cache, self.plans
        if cache is None or plans is None:
            return None
        operation = data.get("operationName")
        query = data.get("query")
        reference = sent_by_hash(data)
        if not isinstance(operation, str | None) or not isinstance(query, str | None):
            return None
        registered = False
        if query is not None:
            if self.mode is not DocumentsMode.ANY:
                return None  # text: the mode's rule runs on the normal path
            document_hash = hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()
            if reference is not None:
                # Apollo's registering request (the text with its hash) must run, or the
                # document is never stored and every later request by hash is not found; a
                # wrong hash or a documentId beside a text is refused by the normal path.
                return None
            if learn:
                plan = plans.of(document_hash, query, operation)
            else:
                plan = plans.known(document_hash, operation)[1]
        elif reference is not None and self.registered is not None:
            # Known once this process has run the document (graph.persisted keeps it).
            stored = self.registered.known(reference.id)
            if stored is None or (self.mode is DocumentsMode.TRUSTED and not stored.trusted):
                return None
            registered, document_hash = True, stored.sha256
            if learn:
                plan = plans.of(document_hash, stored.body, operation)
            else:
                plan = plans.known(document_hash, operation)[1]
        else:
            return None
        variables = data.get("variables")
        if plan is None or not isinstance(variables, dict | None):
            return None
        key = entry_key(
            f"{plans.schema_digest}:{document_hash}",
            operation,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
        )
        label = cache.label(document_hash, registered)
        return Probe(key, label, plan.prefixes, plan.max_age, plan.operation)


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower() == JSON


def _body_data(raw: bytes) -> Mapping[str, Any] | None:
    """A POST body's GraphQL parameters, or None for anything the view must judge itself."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _query_data(raw: bytes) -> Mapping[str, Any] | None:
    """A GET query string's GraphQL parameters, or None when malformed."""
    try:
        return _params(QueryParams(raw))
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None


def _params(params: QueryParams) -> dict[str, Any]:
    """A GET request's GraphQL parameters (variables and extensions are JSON)."""
    data: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for name in ("variables", "extensions"):
        raw = params.get(name)
        data[name] = orjson.loads(raw) if raw else None
    return data
