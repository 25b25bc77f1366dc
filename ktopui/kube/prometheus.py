"""Queries to a Prometheus-compatible HTTP API (Prometheus, Thanos, VictoriaMetrics).

Two ways in: through the API server's service proxy, riding the cluster's own
httpx client and credentials, or by URL with a client of its own (bearer token
file, basic auth, CA, proxies from the environment). Prometheus is shared by
everyone on the cluster and its answers are as hostile as any server's: at most
MAX_IN_FLIGHT queries at once, identical range queries answered from a small
cache, bodies bounded (gzip inflated a piece at a time), a deadline per query,
and every failure leaves as a PromError with one sanitised line naming the
source.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import ssl
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlencode, urlsplit, urlunsplit

import httpx
import msgspec
import numpy as np

from ktopui import __version__
from ktopui.kube import inflate
from ktopui.kube.api import cause_of
from ktopui.kube.auth import TokenFileAuth
from ktopui.kube.errors import KubeError
from ktopui.kube.limits import ERROR_BODY, MiB, ResponseLimits, size_text
from ktopui.kube.prometheus_settings import url_problem
from ktopui.kube.proxy import proxy_from_environment
from ktopui.kube.tls import build_context
from ktopui.model.promql import NO_RULES, RecordingRules, rules_probe
from ktopui.safe_text import escape_controls

if TYPE_CHECKING:
    from ktopui.kube.api import KubeAPI

MAX_IN_FLIGHT = 4
# The cache holds at most this many answers and samples (16 bytes each: about 32 MiB); an
# answer too big for a quarter of it is not kept (a week of a whole namespace is asked once).
CACHE_ENTRIES = 64
CACHE_SAMPLES = 2_000_000
# A page of containers over 250 points is well under a MiB; a whole large
# namespace over a week is tens. KTOPUI_MAX_RESPONSE_MB raises it.
MAX_BODY = 64 * MiB
DEADLINE = 30.0
# Through the API server's proxy a GET needs `get services/proxy` and a POST
# `create`: queries go as GET while they fit in a URL, as POST beyond.
MAX_GET_QUERY = 8192


class PromError(Exception):
    """Anything that stops a query from being answered: `message` is one sanitised line naming
    the source, `hint` what to do about it."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        message = escape_controls(message)
        super().__init__(message)
        self.message = message
        self.hint = escape_controls(hint)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class PromUnreachable(PromError):
    """No HTTP answer: connection refused, DNS, TLS."""


class PromRefused(PromError):
    """401/403: the credentials, or RBAC on the service proxy."""


class PromBadQuery(PromError):
    """400/422: the engine rejected the query (bad_data, execution)."""


class PromUnavailable(PromError):
    """5xx: the engine, or the proxy in front of it (the API server's 503), is not answering."""


class PromTooLarge(PromError):
    """The answer outgrew MAX_BODY."""


class PromTimeout(PromError):
    """No complete answer within the deadline."""


class PromMalformed(PromError):
    """An answer that is not the Prometheus API's JSON (a login page, a wrong path)."""


@dataclass(frozen=True)
class PromSource:
    base: str  # the URL API paths are appended to (".../proxy", ".../select/0/prometheus")
    via: str  # "url" | "proxy"
    name: str  # for people: "monitoring/prometheus-k8s", or the URL without credentials
    flavour: str  # "kube-prometheus-stack" | "prometheus-operator" | "prometheus" | "thanos" | "victoriametrics" | "url"


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    times: np.ndarray  # float64 seconds since the epoch, ascending
    values: np.ndarray  # float64; NaN for NaN, ±Inf or unparsable text (a gap)


@dataclass(frozen=True)
class QueryResult:
    series: list[Series]
    warnings: list[str]  # the engine's "warnings" and "infos" (partial data), sanitised


@dataclass
class PromStats:
    queries: int = 0  # requests sent (cache hits not counted)
    samples: int = 0  # points returned
    bytes: int = 0  # body bytes read, inflated
    cache_hits: int = 0


# -- the API's JSON -----------------------------------------------------------


class _Answer(msgspec.Struct):
    status: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")
    errorType: str = ""
    error: str = ""
    warnings: list[str] = []
    infos: list[str] = []


class _Data(msgspec.Struct):
    resultType: str
    result: msgspec.Raw


class _Ranged(msgspec.Struct):
    metric: dict[str, str] = {}
    values: list[tuple[float, str]] = []


class _Instant(msgspec.Struct):
    metric: dict[str, str] = {}
    value: tuple[float, str] | None = None


class _Status(msgspec.Struct):
    """The API server's own error answer (the proxy refusing, the service missing)."""

    kind: str = ""
    message: str = ""


_answer = msgspec.json.Decoder(_Answer)
_data = msgspec.json.Decoder(_Data)
_matrix = msgspec.json.Decoder(list[_Ranged])
_vector = msgspec.json.Decoder(list[_Instant])
_scalar = msgspec.json.Decoder(tuple[float, str])
_status = msgspec.json.Decoder(_Status)
_any = msgspec.json.Decoder(dict)


def _numbers(texts: list[str]) -> np.ndarray:
    """Sample values (strings in the API) as float64, NaN for ±Inf, NaN or anything unparsable."""
    try:
        values = np.array(texts, dtype=np.float64)
    except ValueError:
        values = np.array([_number(text) for text in texts], dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _series(labels: dict[str, str], pairs: list[tuple[float, str]]) -> Series:
    times = np.array([t for t, _ in pairs], dtype=np.float64)
    return Series(labels, times, _numbers([v for _, v in pairs]))


# -- the client -----------------------------------------------------------------


class PromClient:
    """Instant and range queries against one source; see the module's docstring."""

    def __init__(self, source: PromSource, http: httpx.AsyncClient, *, owns_http: bool,
                 limits: ResponseLimits | None = None, deadline: float = DEADLINE) -> None:
        self.source = source
        self.stats = PromStats()
        self._http = http
        self._owns_http = owns_http
        self._max_bytes = max(MAX_BODY, (limits or ResponseLimits.from_environment()).at_least)
        self._deadline = deadline
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._cache: OrderedDict[tuple, QueryResult] = OrderedDict()
        self._cached_samples = 0
        # The same query asked again while the first is on its way waits for that one's answer.
        self._pending: dict[tuple, asyncio.Future[QueryResult]] = {}
        # kube-prometheus's recording rules found by probe_rules(); the expressions take it.
        self.rules: RecordingRules = NO_RULES

    async def query(self, expr: str, at: float | None = None) -> QueryResult:
        """An instant query (a vector or a scalar), at `at` or now; only the former is cached."""
        form = {"query": expr} if at is None else {"query": expr, "time": _timestamp(at)}
        key = ("query", expr, at) if at is not None else None
        return await self._cached(key, "/api/v1/query", form)

    async def query_range(self, expr: str, start: float, end: float, step: float) -> QueryResult:
        form = {"query": expr, "start": _timestamp(start), "end": _timestamp(end), "step": _timestamp(step)}
        return await self._cached(("range", expr, start, end, step), "/api/v1/query_range", form)

    async def probe_rules(self, at: float | None = None) -> RecordingRules:
        """Which recording rules the source has (one cheap instant query, as of `at` or now), kept in `rules`."""
        found = await self.query(rules_probe(), at)
        self.rules = RecordingRules.from_names(s.labels.get("__name__", "") for s in found.series)
        return self.rules

    async def runtime_info(self) -> dict:
        """The engine's runtime information (retention and more), {} where it has none
        (VictoriaMetrics, Thanos)."""
        try:
            body = await self._request("GET", "/api/v1/status/runtimeinfo", {}, "runtime info")
            answer = _answer.decode(body)
            return _any.decode(answer.data) if answer.status == "success" else {}
        except (PromError, msgspec.DecodeError, RecursionError):
            return {}

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _cached(self, key: tuple | None, path: str, form: dict[str, str]) -> QueryResult:
        if key is None:
            return await self._answer(path, form)
        if (hit := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            return hit
        if (pending := self._pending.get(key)) is not None:
            self.stats.cache_hits += 1
            return await asyncio.shield(pending)
        pending = self._pending[key] = asyncio.get_running_loop().create_future()
        try:
            result = await self._answer(path, form)
        except BaseException as err:
            pending.set_exception(err if isinstance(err, Exception) else PromError(
                f"Prometheus {self.source.name}: the query was cancelled"))
            pending.exception()  # (retrieved: no warning when nobody else was waiting)
            raise
        finally:
            del self._pending[key]
        pending.set_result(result)
        self._keep(key, result)
        return result

    def _keep(self, key: tuple, result: QueryResult) -> None:
        samples = _samples(result)
        if samples > CACHE_SAMPLES // 4:
            return
        self._cache[key] = result
        self._cached_samples += samples
        while len(self._cache) > CACHE_ENTRIES or self._cached_samples > CACHE_SAMPLES:
            _, dropped = self._cache.popitem(last=False)
            self._cached_samples -= _samples(dropped)

    async def _answer(self, path: str, form: dict[str, str]) -> QueryResult:
        body = await self._request("GET" if self._fits_url(form) else "POST", path, form, "query")
        return self._decode(body)

    def _fits_url(self, form: dict[str, str]) -> bool:
        # Direct engines all take POST, which no URL limit cuts; the proxy's RBAC wants GET.
        return self.source.via == "proxy" and len(urlencode(form)) <= MAX_GET_QUERY

    # -- transport ------------------------------------------------------------

    async def _request(self, method: str, path: str, form: dict[str, str], what: str) -> bytearray:
        async with self._slots:
            self.stats.queries += 1
            try:
                async with asyncio.timeout(self._deadline):
                    return await self._read(method, path, form, what)
            except TimeoutError:
                raise PromTimeout(
                    f"Prometheus {self.source.name}: no complete answer to a {what} within {self._deadline:.0f}s",
                    hint="The engine may be overloaded, or the query too heavy: a shorter range or a "
                    "narrower scope asks less of it.") from None

    async def _read(self, method: str, path: str, form: dict[str, str], what: str) -> bytearray:
        url = self.source.base + path
        request: dict = {"headers": {"Accept": "application/json", "Accept-Encoding": inflate.ACCEPT_ENCODING}}
        if method == "GET":
            request["params"] = form
        else:
            request["data"] = form
        body = bytearray()
        error: PromError | None = None
        try:
            async with self._http.stream(method, url, **request) as response:
                if response.status_code >= 300:
                    error = self._status_error(response, method, await _error_body(response, what))
                else:
                    async for piece in inflate.pieces(response, f"a {what} to {self.source.name}"):
                        body += piece
                        self.stats.bytes += len(piece)
                        if len(body) > self._max_bytes:
                            error = PromTooLarge(
                                f"Prometheus {self.source.name}: the answer is larger than "
                                f"{size_text(self._max_bytes)}; ktopui stopped reading it",
                                hint="Narrow the query: one namespace (-n), a label selector (-l), "
                                "a shorter --since or a longer --step.")
                            break
        except httpx.HTTPError as err:
            raise self._transport_error(err) from None
        except KubeError as err:  # inflate: a body not in the encoding it claims
            raise PromMalformed(f"Prometheus {self.source.name}: {err.message}") from None
        if error is not None:
            raise error
        return body

    def _decode(self, body: bytearray) -> QueryResult:
        try:
            answer = _answer.decode(body)
        except (msgspec.DecodeError, RecursionError):  # (RecursionError: nested thousands deep)
            raise PromMalformed(
                f"Prometheus {self.source.name}: the answer is not the Prometheus API's JSON "
                f"(it starts {_first_line(bytes(body[:200]))!r})",
                hint="Check the URL: it must be the engine's base, the one /api/v1/query is under.") from None
        if answer.status != "success":
            raise _api_error(self.source, 200, answer)
        warnings = [escape_controls(w) for w in (*answer.warnings, *answer.infos)]
        try:
            data = _data.decode(answer.data)
            series = _result(data)
        except (msgspec.DecodeError, RecursionError) as err:
            raise PromMalformed(f"Prometheus {self.source.name}: an answer of an unexpected shape ({err})") from None
        result = QueryResult(series, warnings)
        self.stats.samples += _samples(result)
        return result

    def _status_error(self, response: httpx.Response, method: str, body: bytes) -> PromError:
        code = response.status_code
        name = self.source.name
        try:
            answer = _answer.decode(body)
        except (msgspec.DecodeError, RecursionError):
            answer = None
        prom_error = answer is not None and answer.status == "error"
        if prom_error and code not in (401, 403):  # (refusals in Prometheus's words are refusals all the same)
            return _api_error(self.source, code, answer)
        text = (answer.error if prom_error else "") or _status_message(body) or _first_line(body) \
            or response.reason_phrase
        if code == 401 and self.source.via == "proxy":
            return PromRefused(f"Prometheus {name}: refused (401): {text}",
                               hint="Either the cluster credentials have expired (log in again), or the service "
                               "wants credentials of its own: give them with --prometheus URL.")
        if code in (401, 403):
            if self.source.via == "proxy":
                verb = "get" if method == "GET" else "create"
                hint = (f"Ask a cluster admin for RBAC permission to {verb} services/proxy in namespace "
                        f"{_namespace_of(self.source.base)!r}, or pass --prometheus URL.")
            else:
                hint = "Check --prometheus-token-file, or the user and password of --prometheus."
            return PromRefused(f"Prometheus {name}: refused ({code}): {text}", hint=hint)
        if 300 <= code < 400:
            return PromMalformed(f"Prometheus {name}: answered {code} (a redirect, not followed)",
                                 hint="Check the URL: a login page or another address is in front of it.")
        if code >= 500:
            return PromUnavailable(f"Prometheus {name}: unavailable ({code}): {text}")
        if code == 429:
            return PromUnavailable(f"Prometheus {name}: too many queries (429): {text}",
                                   hint="Something in front of it limits the rate of queries: try again later.")
        if code == 404:
            return PromMalformed(f"Prometheus {name}: no Prometheus API at this address (404): {text}",
                                 hint="Check the URL: it must be the engine's base, the one /api/v1/query is under.")
        return PromError(f"Prometheus {name}: answered {code}: {text}")

    def _transport_error(self, err: httpx.HTTPError) -> PromError:
        name = self.source.name
        if isinstance(err, httpx.TimeoutException):
            return PromTimeout(f"Prometheus {name}: timed out waiting for an answer")
        tls = cause_of(err, ssl.SSLError)
        if tls is not None:
            detail = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or str(tls)
            return PromUnreachable(f"Prometheus {name}: TLS handshake failed: {detail}",
                                   hint="Check --prometheus-ca (or insecure_skip_tls_verify in the config file).")
        if isinstance(err, httpx.ConnectError):
            refused = cause_of(err, ConnectionRefusedError) is not None or "refused" in str(err).lower()
            return PromUnreachable(f"Prometheus {name}: " + ("connection refused" if refused
                                                              else f"cannot connect: {err or type(err).__name__}"))
        return PromUnreachable(f"Prometheus {name}: the connection broke: {err or type(err).__name__}")


def _samples(result: QueryResult) -> int:
    return sum(len(s.values) for s in result.series)


def _result(data: _Data) -> list[Series]:
    kind = data.resultType
    if kind == "matrix":
        return [_series(r.metric, r.values) for r in _matrix.decode(data.result)]
    if kind == "vector":
        return [_series(r.metric, [r.value]) for r in _vector.decode(data.result) if r.value is not None]
    if kind == "scalar":
        return [_series({}, [_scalar.decode(data.result)])]
    raise msgspec.DecodeError(f"result type {kind!r} is not a series")


def _api_error(source: PromSource, code: int, answer: _Answer) -> PromError:
    kind, text = answer.errorType, answer.error or "no reason given"
    message = f"Prometheus {source.name}: {kind or 'error'}: {text}"
    if kind in ("bad_data", "execution") or code in (400, 422):
        # (execution: "query processing would load too many samples into memory", and the like)
        return PromBadQuery(message, hint="A shorter range or a narrower scope asks less of it."
                            if kind == "execution" else "")
    if kind == "timeout":
        return PromTimeout(message, hint="A shorter range or a narrower scope asks less of it.")
    if kind == "unavailable" or code >= 500:
        return PromUnavailable(message)
    return PromError(message)


async def _error_body(response: httpx.Response, what: str) -> bytes:
    body = bytearray()
    try:
        async for piece in inflate.pieces(response, what):
            body += piece
            if len(body) >= ERROR_BODY:
                break
    except KubeError:
        pass  # an error answer in a bad encoding still has its status code
    return bytes(body[:ERROR_BODY])


def _status_message(body: bytes) -> str:
    try:
        status = _status.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return ""
    return status.message if status.kind == "Status" else ""


def _first_line(body: bytes) -> str:
    """The first line of text in a plain-text or HTML body (a proxy's error page), shortened."""
    text = body.decode("utf-8", "replace")
    if "<" in text:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.DOTALL | re.IGNORECASE)
        text = title.group(1) if title else re.sub(r"<[^>]*>", " ", text)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= 160 else line[:157] + "..."


def _timestamp(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _namespace_of(base: str) -> str:
    parts = urlsplit(base).path.split("/")
    return parts[parts.index("namespaces") + 1] if "namespaces" in parts[:-1] else ""


def public_url(url: str) -> str:
    """`url` without its user and password, for messages."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        return urlunsplit(parts._replace(netloc=_netloc(parts)))
    except ValueError:
        return public_url_or_redacted(url)


# -- making a client ------------------------------------------------------------


def proxy_client(api: KubeAPI, source: PromSource, *, deadline: float = DEADLINE) -> PromClient:
    """A client reaching `source` through the API server's service proxy, on the cluster's
    own connection and credentials."""
    return PromClient(source, api.http, owns_http=False, limits=api.limits, deadline=deadline)


def url_client(url: str, *, token_file: str = "", username: str = "", password: str = "", ca_file: str = "",
               insecure: bool = False, environ: Mapping[str, str] | None = None) -> PromClient:
    """A client of its own for `url` (http or https, user and password allowed in it).
    PromError naming what is wrong with the URL or the files."""
    shown = public_url(url)
    if problem := url_problem(url):
        raise PromError(f"Prometheus URL {shown}: {problem}",
                        hint="For example --prometheus http://prometheus.example:9090")
    parts = urlsplit(url)
    if parts.username or parts.password:
        username = username or unquote(parts.username or "")
        password = password or unquote(parts.password or "")
    if token_file and username:
        raise PromError(f"Prometheus URL {shown}: both a bearer token file and a user and password",
                        hint="Give one of them.")
    auth: httpx.Auth | None = None
    if token_file:
        try:
            auth = TokenFileAuth(token_file)
        except KubeError as err:
            raise PromError(f"Prometheus bearer token file: {err.message}") from None
    elif username:
        auth = httpx.BasicAuth(username, password)
    ca_pem = None
    if ca_file:
        try:
            with open(ca_file, "rb") as f:
                ca_pem = f.read()
        except OSError as err:
            raise PromError(f"Prometheus CA file {ca_file}: {err.strerror or err}") from None
    try:
        ssl_context = build_context(ca_pem=ca_pem, insecure=insecure, server_name=None,
                                    where=f"Prometheus {shown}")
    except KubeError as err:
        raise PromError(err.message, hint=err.hint) from None
    base = urlunsplit(parts._replace(netloc=_netloc(parts), query="", fragment="")).rstrip("/")
    proxy = proxy_from_environment(base, os.environ if environ is None else environ)
    http = httpx.AsyncClient(
        auth=auth, headers={"User-Agent": f"ktopui/{__version__}"}, timeout=DEADLINE,
        transport=httpx.AsyncHTTPTransport(verify=ssl_context, proxy=proxy, trust_env=False), trust_env=False)
    return PromClient(PromSource(base=base, via="url", name=base, flavour="url"), http, owns_http=True)


def _netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return f"{netloc}:{parts.port}" if parts.port else netloc


def public_url_or_redacted(url: str) -> str:
    """For a URL that does not parse: never echo what may hold a password."""
    return "(the URL given)" if "@" in url else escape_controls(url)
