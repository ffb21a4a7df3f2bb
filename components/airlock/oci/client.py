"""A focused client for the OCI distribution API (no pulumi import).

urllib3 for HTTP: a pooled, thread-safe client (requests' own) whose streamed reads go through
a buffered socket file, so a 1 MiB read is one call into C. The same copy with httpx spent
about twice the CPU in its HTTP/1.1 parser (one event per TLS record) and took 20 ms longer
to import, which is a seventh of a re-copy (README, Performance). Not a registry library:
oras-py copies through a local layout and has no cross-repository mount; python-dxf's digest
helper returns the config digest. The work of a copy is hashing and moving bytes, so a
direct client that controls ``Accept`` headers, mounts, streaming and concurrency is both
simpler and faster.

Behaviour (distribution spec and the measured quirks in ``shared/notes/registry-facts.md``):
- auth: a registry with a login in the auth file gets it up front (Basic) on the first request,
  which saves the anonymous round trip, and clients that wait for a 401 break on large uploads;
  a Bearer challenge switches that registry to tokens, one per scope, cached;
- trust: the registry's own CA bundle for the registry (system roots when it has none); plain
  HTTP only for registries declared insecure. Other hosts the registry sends us to (its token
  realm, a storage redirect for a blob) are trusted by the system roots plus that CA bundle
  and never receive the registry's credentials;
- **no downgrade**: for a registry not declared insecure, every URL the client is sent to (a
  redirect, an upload ``Location``, a token realm) must be ``https://``. The login goes to the
  registry itself over the scheme it was declared with, and to its token realm — over plain
  HTTP only when the realm's own host is declared insecure (or is the registry itself);
- redirects are followed for reads (GET, HEAD), at most five;
- manifests are requested with every OCI and Docker manifest/index media type in ``Accept``,
  read up to :data:`MAX_MANIFEST_BYTES`, verified against their digest (sha256, sha384 or
  sha512: the algorithm of the digest asked for) and checked for the structure a copy needs;
  blobs stream through verification and an upload whose bytes do not match is aborted before
  the registry can commit it;
- **one deadline per request** (``timeout``, the CLI's ``--timeout``): connecting, every retry
  and reading the whole answer must finish within it; a stream (a blob) must make progress
  within it (each MiB). A watchdog closes the socket of a request past its deadline, so a
  server that drips one byte per second cannot hold a request open;
- retries with exponential backoff on 5xx, 429 and connection errors; clear errors for
  401/403/404 and ``MANIFEST_BLOB_UNKNOWN``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as TransportError

from ..images.dockerconfig import RegistryCredential
from ..images.reference import DIGEST_LENGTHS, ImageReference

__all__ = [
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "MAX_MANIFEST_BYTES",
    "MAX_TOKEN_BYTES",
    "Manifest",
    "RegistryClient",
    "RegistryError",
    "RegistryTransport",
    "Reply",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
RETRYABLE = {429, 500, 502, 503, 504}
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 1 << 20
# Size caps for what is read into memory. distribution refuses manifests over 4 MiB
# (registry/handlers/manifests.go maxManifestBodySize = 4 << 20) and containers/image reads at
# most 4 MiB of a manifest and 1 MiB of a token or an error (internal/iolimits/iolimits.go):
# nothing larger can be a real answer, and 16 requests at once then hold at most 64 MiB.
MAX_MANIFEST_BYTES = 4 << 20
MAX_TOKEN_BYTES = 1 << 20
MAX_OTHER_BYTES = 1 << 20
# Docker Hub's API answers at registry-1.docker.io, not at the name references use
# (containers/image docker/docker_client.go: dockerHostname -> dockerRegistry). Logins and
# trust stay keyed by the reference name.
API_HOSTS = {"docker.io": "registry-1.docker.io"}


class RegistryError(RuntimeError):
    """A registry refused or failed a request; the message names the registry and the fix."""


@dataclass(frozen=True)
class RegistryTransport:
    """How to reach one registry."""

    ca_bundle: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class Reply:
    """A complete answer whose body was read (and capped)."""

    status: int
    headers: Mapping[str, str]
    data: bytes


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    content: bytes

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.content)  # type: ignore[no-any-return]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def children(self) -> list[dict[str, Any]]:
        return list(self.data.get("manifests", [])) if self.is_index else []

    def blobs(self) -> list[dict[str, Any]]:
        if self.is_index:
            return []
        data = self.data
        return [data["config"], *data.get("layers", [])]

    def platforms(self) -> dict[str, str]:
        platforms: dict[str, str] = {}
        for child in self.children():
            platform = child.get("platform") or {}
            if platform.get("os") and platform.get("architecture"):
                key = f"{platform['os']}/{platform['architecture']}"
                if platform.get("variant"):
                    key += f"/{platform['variant']}"
                platforms[key] = child["digest"]
        return platforms


_DIGEST = re.compile(r"(?P<algorithm>sha256|sha384|sha512):(?P<hex>[0-9a-f]+)")


def digest_of(content: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"


def digest_algorithm(digest: str) -> str | None:
    """The algorithm of a well-formed digest the client can verify, else None."""
    match = _DIGEST.fullmatch(digest)
    if match is None or len(match["hex"]) != DIGEST_LENGTHS[match["algorithm"]]:
        return None
    return match["algorithm"]


def _descriptor_problem(descriptor: object, where: str) -> str | None:
    if not isinstance(descriptor, dict):
        return f"{where} is not a descriptor object"
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or digest_algorithm(digest) is None:
        return f"{where} has no valid digest"
    size = descriptor.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"{where} has no valid size"
    return None


def manifest_problem(content: bytes, media_type: str) -> str | None:
    """Why ``content`` is not an image manifest or index a copy can walk, or None."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return "is not JSON"
    if not isinstance(data, dict):
        return "is not a JSON object"
    if media_type in INDEX_TYPES:
        children = data.get("manifests")
        if not isinstance(children, list):
            return "is an index without a 'manifests' list"
        problems = (_descriptor_problem(child, f"manifests[{i}]") for i, child in enumerate(children))
        return next((problem for problem in problems if problem), None)
    if media_type in IMAGE_TYPES:
        if "config" not in data:
            return "is an image manifest without 'config'"
        layers = data.get("layers", [])
        if not isinstance(layers, list):
            return "has 'layers' that is not a list"
        problems = (
            _descriptor_problem(item, where)
            for item, where in [(data["config"], "config")]
            + [(layer, f"layers[{i}]") for i, layer in enumerate(layers)]
        )
        return next((problem for problem in problems if problem), None)
    return f"has media type {media_type or '(none)'!r}, which is not an OCI or Docker v2 manifest or index"


def _context(ca_bundle: str | None, *, system: bool) -> ssl.SSLContext:
    """Trust ``ca_bundle``, and the system roots when ``system`` (or when there is no bundle)."""
    if system or not ca_bundle:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        context.load_verify_locations(cadata=ca_bundle)
    return context


def _discard(response: urllib3.BaseHTTPResponse) -> None:
    """Done with ``response``: give the connection back without reading an unbounded body."""
    with contextlib.suppress(TransportError, OSError, ValueError):
        length = int(response.headers.get("Content-Length") or -1)
        if 0 <= length <= 65536:
            response.drain_conn()
            response.release_conn()
            return
    response.close()  # unknown or large remainder: drop the connection instead of reading it
    response.release_conn()


# -- deadlines -------------------------------------------------------------------------------
class Deadline:
    """A request's deadline; a stream moves it forward on progress (:meth:`progress`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def progress(self) -> None:
        self.expires = time.monotonic() + self.seconds

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise _DeadlineExceeded(what)


class _DeadlineExceeded(Exception):
    pass


class _Watchdog:
    """One daemon thread that shuts down the sockets of requests past their deadline.

    A socket timeout bounds one ``recv``; a server dripping a byte a second never trips it.
    The connections register their socket for the request being sent (see ``_Connection``);
    shutting it down makes the blocked read fail at once, wherever it is (status line,
    headers or body)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._watched: dict[tuple[int, int], tuple[socket.socket, Deadline]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: Deadline) -> None:
        with self._condition:
            self._watched[(id(sock), id(deadline))] = (sock, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="airlock-deadlines", daemon=True)
                self._thread.start()
            self._condition.notify()

    def forget(self, sock: socket.socket, deadline: Deadline) -> None:
        """Stop watching ``sock`` for ``deadline`` only (another request may have it by now)."""
        with self._condition:
            self._watched.pop((id(sock), id(deadline)), None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                next_expiry: float | None = None
                for key, (sock, deadline) in list(self._watched.items()):
                    if deadline.expires <= now:
                        del self._watched[key]
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    elif next_expiry is None or deadline.expires < next_expiry:
                        next_expiry = deadline.expires
                wait = None if next_expiry is None else max(0.01, next_expiry - now)
                self._condition.wait(timeout=wait)


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


class _WatchedConnection:
    """Mixin: register the socket with the watchdog for the request this thread is sending."""

    sock: socket.socket | None

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline: Deadline | None = getattr(_CURRENT, "deadline", None)
        super().request(*args, **kwargs)  # type: ignore[misc]
        if deadline is not None and self.sock is not None:
            _WATCHDOG.watch(self.sock, deadline)
            _CURRENT.sockets.append((self.sock, deadline))


class _Connection(_WatchedConnection, HTTPConnection):
    pass


class _TLSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


@contextlib.contextmanager
def _guarded(deadline: Deadline) -> Iterator[None]:
    """Requests this thread sends inside the block are cut off at ``deadline`` (nestable: a token
    fetched while a request is being prepared has a guard of its own)."""
    saved = getattr(_CURRENT, "deadline", None), getattr(_CURRENT, "sockets", [])
    _CURRENT.deadline, _CURRENT.sockets = deadline, []
    try:
        yield
    finally:
        for sock, watched in _CURRENT.sockets:
            _WATCHDOG.forget(sock, watched)
        _CURRENT.deadline, _CURRENT.sockets = saved


def read_capped(response: urllib3.BaseHTTPResponse, limit: int, deadline: Deadline, what: str) -> bytes:
    """The whole body, refusing more than ``limit`` bytes and reads past the deadline."""
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        response.close()
        raise _TooLarge(f"{what} is {int(length):,} bytes; at most {limit:,} are accepted")
    parts: list[bytes] = []
    total = 0
    while True:
        deadline.check(what)
        chunk = response.read1(65536, decode_content=False)
        if not chunk:
            deadline.check(what)  # the watchdog's shutdown also ends a body without a length
            break
        total += len(chunk)
        if total > limit:
            response.close()
            raise _TooLarge(f"{what} is larger than {limit:,} bytes, the most accepted")
        parts.append(chunk)
    return b"".join(parts)


class _TooLarge(Exception):
    pass


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class _Auth:
    scheme: str | None = None
    realm: str | None = None
    service: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class RegistryClient:
    """Thread-safe: connection pools per registry, shared by worker threads."""

    def __init__(
        self,
        credentials: Mapping[str, RegistryCredential] | None = None,
        transports: Mapping[str, RegistryTransport] | None = None,
        *,
        retries: int = 4,
        backoff: float = 0.2,
        timeout: float = 60.0,
    ) -> None:
        self.credentials = dict(credentials or {})
        self.transports = dict(transports or {})
        self.retries = retries
        self.backoff = backoff
        self.deadline_seconds = timeout
        self._pools: dict[tuple[str, bool], urllib3.PoolManager] = {}
        self._auth: dict[str, _Auth] = {}
        self._lock = threading.Lock()
        self.bytes_uploaded = 0
        self._counter = threading.Lock()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------
    def _pool(self, registry: str, *, own: bool) -> urllib3.PoolManager:
        """Connections to the registry itself (``own``), or to hosts it sends us to."""
        with self._lock:
            pool = self._pools.get((registry, own))
            if pool is None:
                transport = self.transports.get(registry, RegistryTransport())
                pool = urllib3.PoolManager(
                    num_pools=8,
                    maxsize=64,  # the most parallel requests the CLI allows (--workers)
                    ssl_context=_context(transport.ca_bundle, system=not own),
                    retries=False,
                )
                pool.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
                self._pools[(registry, own)] = pool
                # A login for this registry is sent with the first request; a Bearer
                # challenge in answer switches the registry to tokens.
                self._auth.setdefault(
                    registry, _Auth(scheme="basic" if registry in self.credentials else None)
                )
            return pool

    def _insecure(self, registry: str) -> bool:
        return self.transports.get(registry, RegistryTransport()).insecure

    def _url(self, registry: str, url: str) -> str:
        if url.startswith(("https://", "http://")):
            return url
        scheme = "http" if self._insecure(registry) else "https"
        return f"{scheme}://{API_HOSTS.get(registry, registry)}{url}"

    def _check_scheme(self, registry: str, url: str, what: str) -> None:
        """A registry not declared insecure is only ever followed to https:// URLs."""
        if urlsplit(url).scheme != "https" and not self._insecure(registry):
            raise RegistryError(
                f"{registry}: {what} points at plain-HTTP {url.split('?')[0]!r}; refusing to follow it "
                "without TLS (the registry is not declared insecure). Fix the registry's "
                "configuration, or declare the registry insecure (images.registries / --insecure) if "
                "plain HTTP is really intended"
            )

    def _is_own(self, registry: str, url: str) -> bool:
        """The registry itself, over the scheme it was declared with: the only place its login goes."""
        parts = urlsplit(url)
        scheme = "http" if self._insecure(registry) else "https"
        return parts.netloc == API_HOSTS.get(registry, registry) and parts.scheme == scheme

    def _authorization(self, registry: str, scope: str, deadline: Deadline) -> dict[str, str]:
        auth = self._auth[registry]
        credential = self.credentials.get(registry)
        if auth.scheme == "basic" and credential is not None:
            return {"Authorization": f"Basic {credential.auth}"}
        if auth.scheme == "bearer":
            token = auth.tokens.get(scope) or self._token(registry, scope, deadline)
            return {"Authorization": f"Bearer {token}"}
        return {}

    def _challenge(self, registry: str, header: str) -> None:
        auth = self._auth[registry]
        scheme, _, params = header.partition(" ")
        values = dict(_CHALLENGE.findall(params))
        with auth.lock:
            auth.scheme = scheme.lower()
            auth.realm = values.get("realm")
            auth.service = values.get("service")

    def _token(self, registry: str, scope: str, deadline: Deadline) -> str:
        auth = self._auth[registry]
        if not auth.realm:
            raise RegistryError(f"{registry}: bearer challenge without a realm")
        self._check_scheme(registry, auth.realm, "its token realm")
        realm_host = urlsplit(auth.realm).netloc
        other_host = realm_host != API_HOSTS.get(registry, registry)
        if urlsplit(auth.realm).scheme != "https" and other_host and not self._insecure(realm_host):
            # The login goes to the realm: over plain HTTP only to a host declared insecure itself,
            # not to any host an insecure registry names.
            raise RegistryError(
                f"{registry}: its token realm {auth.realm.split('?')[0]!r} is plain HTTP on another "
                f"host; refusing to send the login there. Declare {realm_host} insecure too "
                "(images.registries / --insecure) if that is really intended"
            )
        params = {"scope": scope} if scope else {}
        if auth.service:
            params["service"] = auth.service
        credential = self.credentials.get(registry)
        headers = {"Authorization": f"Basic {credential.auth}"} if credential else {}
        separator = "&" if "?" in auth.realm else "?"
        pool = self._pool(registry, own=False)
        what = f"token service {auth.realm}"
        try:
            with _guarded(deadline):
                response = pool.urlopen(
                    "GET",
                    f"{auth.realm}{separator}{urlencode(params)}",
                    headers=headers,
                    redirect=False,
                    preload_content=False,
                    timeout=self._socket_timeout(deadline),
                )
                body = read_capped(response, MAX_TOKEN_BYTES, deadline, f"{registry}: the {what} answer")
            response.release_conn()  # after the guard forgot the socket: another request may take it
        except _TooLarge as error:
            raise RegistryError(f"{error}; refusing it") from None
        except (TransportError, OSError, _DeadlineExceeded) as error:
            if deadline.remaining() <= 0:
                raise self._late(registry, what) from None
            raise RegistryError(f"{registry}: {what} unreachable: {error}") from None
        if response.status in (401, 403):
            who = f"user {credential.username!r}" if credential else "anonymous access"
            raise RegistryError(
                f"{registry}: token service refused {who} for {scope or 'the registry'} "
                f"({response.status}); "
                "check the credentials in the auth file"
            )
        if response.status != 200:
            raise RegistryError(f"{registry}: token service answered {response.status}")
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        token = str(data.get("token") or data.get("access_token") or "") if isinstance(data, dict) else ""
        if not token:
            raise RegistryError(f"{registry}: token service returned no token")
        with auth.lock:
            auth.tokens[scope] = token
        return token

    def _socket_timeout(self, deadline: Deadline) -> urllib3.Timeout:
        remaining = max(0.001, deadline.remaining())
        return urllib3.Timeout(connect=remaining, read=remaining)

    def _late(self, registry: str, what: str) -> RegistryError:
        return RegistryError(
            f"{registry}: {what} got no complete answer within {self.deadline_seconds:g} s (the request "
            "deadline); the registry hangs or answers too slowly. Retry later, or raise --timeout"
        )

    def open(
        self,
        method: str,
        registry: str,
        url: str,
        *,
        scope: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        params: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        what: str = "",
        replayable: bool = True,
        deadline: Deadline | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """One API call with auth, redirects, retries, the deadline and clear errors.

        ``url`` is a path on the registry or an absolute URL (an upload ``Location``). The
        response is returned unread with its socket still under ``deadline`` only while the
        caller reads it inside ``_guarded``; :meth:`request` and :meth:`stream` do that."""
        deadline = deadline or Deadline(self.deadline_seconds)
        label = what or f"{method} {url}"
        target = self._url(registry, url)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        attempt = redirects = 0
        authenticated_retry = False
        while True:
            self._check_scheme(registry, target, "a URL it gave" if redirects == 0 else "a redirect")
            own = self._is_own(registry, target)
            pool = self._pool(registry, own=own)
            try:
                all_headers = {
                    **(headers or {}),
                    **(self._authorization(registry, scope, deadline) if own else {}),
                }
                response = pool.urlopen(
                    method,
                    target,
                    headers=all_headers,
                    body=content,
                    preload_content=False,
                    redirect=False,
                    timeout=self._socket_timeout(deadline),
                )
            except (TransportError, OSError) as error:
                if deadline.remaining() <= 0:
                    raise self._late(registry, label) from None
                if "CERTIFICATE_VERIFY_FAILED" in str(error):
                    raise RegistryError(
                        f"{registry}: TLS certificate not trusted ({error}); pass its CA with --ca-file "
                        f"{registry}=PATH or declare it in images.registries"
                    ) from None
                if attempt < self.retries and replayable:
                    attempt += 1
                    self._sleep(attempt, deadline)
                    continue
                raise RegistryError(f"{registry}: {label} failed: {type(error).__name__}: {error}") from None
            status = response.status
            if status in REDIRECTS and method in ("GET", "HEAD") and redirects < 5:
                location = response.headers.get("Location")
                if location:
                    _discard(response)
                    target = urljoin(target, location)
                    redirects += 1
                    continue
            if status == 401 and own and not authenticated_retry:
                challenge = response.headers.get("WWW-Authenticate", "")
                authenticated_retry = True
                if challenge and replayable:
                    _discard(response)
                    self._challenge(registry, challenge)
                    self._auth[registry].tokens.pop(scope, None)
                    continue
                raise self._error(registry, response, label, deadline)
            if status in RETRYABLE and attempt < self.retries and replayable:
                _discard(response)
                attempt += 1
                self._sleep(attempt, deadline)
                continue
            if status not in expect:
                raise self._error(registry, response, label, deadline)
            return response

    def _sleep(self, attempt: int, deadline: Deadline) -> None:
        time.sleep(max(0.0, min(self.backoff * 2 ** (attempt - 1), deadline.remaining())))

    def request(
        self,
        method: str,
        registry: str,
        url: str,
        *,
        limit: int = MAX_OTHER_BYTES,
        deadline: Deadline | None = None,
        **options: Any,
    ) -> Reply:
        """:meth:`open`, with the whole answer read (at most ``limit`` bytes) by the deadline.

        An upload passes its own ``deadline`` and moves it forward as its body is sent."""
        deadline = deadline or Deadline(self.deadline_seconds)
        what = options.get("what") or f"{method} {url}"
        try:
            with _guarded(deadline):
                response = self.open(method, registry, url, deadline=deadline, **options)
                data = b"" if method == "HEAD" else read_capped(response, limit, deadline, what)
            response.release_conn()  # after the guard forgot the socket: another request may take it
        except _TooLarge as error:
            raise RegistryError(f"{registry}: {error}; refusing it") from None
        except (_DeadlineExceeded, TransportError, OSError) as error:
            if deadline.remaining() <= 0:
                raise self._late(registry, what) from None
            raise RegistryError(f"{registry}: {what} failed: {type(error).__name__}: {error}") from None
        return Reply(response.status, response.headers, data)

    def stream(self, method: str, registry: str, url: str, **options: Any) -> Generator[bytes, None, None]:
        """:meth:`open` for a large body: chunks of up to 1 MiB, each due within the deadline."""
        deadline = Deadline(self.deadline_seconds)
        what = options.get("what") or f"{method} {url}"
        try:
            with _guarded(deadline):
                response = self.open(method, registry, url, deadline=deadline, **options)
        except (_DeadlineExceeded, TransportError, OSError):
            raise self._late(registry, what) from None
        # Watched by hand across the yields (a thread-local guard cannot span them).
        connection = getattr(response, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            _WATCHDOG.watch(sock, deadline)
        complete = False
        try:
            while True:
                try:
                    # One read of up to 1 MiB (a single call into C for the buffered socket); a
                    # read that stalls is cut off by the watchdog at the deadline.
                    chunk = response.read(CHUNK, decode_content=False)
                except (TransportError, OSError) as error:
                    if deadline.remaining() <= 0:
                        raise self._late(registry, what) from None
                    raise RegistryError(f"{registry}: {what} broke off: {error}") from None
                if deadline.remaining() <= 0:  # a read the watchdog cut short returns what it had
                    raise self._late(registry, what)
                if not chunk:
                    break
                deadline.progress()  # each MiB is due within the deadline, not each byte
                yield chunk
            complete = True
        finally:
            if sock is not None:
                _WATCHDOG.forget(sock, deadline)
            if not complete:  # the connection still holds unread bytes: drop it
                response.close()
            response.release_conn()

    def _error(
        self, registry: str, response: urllib3.BaseHTTPResponse, what: str, deadline: Deadline
    ) -> RegistryError:
        codes = ""
        try:
            body = read_capped(response, MAX_OTHER_BYTES, deadline, what)
            errors = json.loads(body).get("errors") or []
            codes = ", ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except (ValueError, AttributeError, TypeError, TransportError, OSError, _TooLarge, _DeadlineExceeded):
            codes = ""
        finally:
            _discard(response)
        status = response.status
        credential = self.credentials.get(registry)
        if status == 401:
            who = f"user {credential.username!r}" if credential else "no credentials"
            hint = "check the password in the auth file" if credential else f"add {registry} to the auth file"
            return RegistryError(f"{registry}: authentication failed for {what} ({who}); {hint}")
        if status == 403:
            return RegistryError(
                f"{registry}: access denied for {what} ({codes or 'forbidden'}); the login lacks permission"
            )
        if status == 404:
            return RegistryError(f"{registry}: not found: {what} ({codes or '404'})")
        if "MANIFEST_BLOB_UNKNOWN" in codes:
            return RegistryError(f"{registry}: {what} refers to blobs the registry does not have ({codes})")
        return RegistryError(f"{registry}: {what} failed with HTTP {status} ({codes or response.reason})")

    # -- API -----------------------------------------------------------------------------
    @staticmethod
    def _scope(repository: str, actions: str) -> str:
        return f"repository:{repository}:{actions}"

    def get_manifest(self, ref: ImageReference, reference: str | None = None) -> Manifest:
        """Fetch a manifest by tag or digest: capped, verified against the digest, checked.

        By digest, the bytes must hash to it (with its own algorithm). By tag, they must hash
        to the ``Docker-Content-Digest`` the registry sent, when it sent one."""
        target = reference or ref.digest or ref.tag or "latest"
        what = f"manifest {ref.path}:{target}" if "@" not in target else f"manifest {ref.path}@{target}"
        reply = self.request(
            "GET",
            ref.domain,
            f"/v2/{ref.path}/manifests/{target}",
            scope=self._scope(ref.path, "pull"),
            headers={"Accept": MANIFEST_ACCEPT},
            what=what,
            limit=MAX_MANIFEST_BYTES,
        )
        content = reply.data
        expected = target if ":" in target else reply.headers.get("Docker-Content-Digest")
        algorithm = digest_algorithm(expected) if expected else "sha256"
        if algorithm is None:
            raise RegistryError(
                f"{ref.domain}: {what}: digest {expected!r} is not a sha256, sha384 or sha512 digest "
                "the client can verify"
            )
        digest = digest_of(content, algorithm)
        if expected and expected != digest:
            raise RegistryError(
                f"{ref.domain}: {what} has digest {digest}, expected {expected}; "
                "the bytes were altered in transit"
            )
        media_type = reply.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type not in (*INDEX_TYPES, *IMAGE_TYPES):
            with contextlib.suppress(ValueError, UnicodeDecodeError, AttributeError):
                media_type = str(json.loads(content).get("mediaType") or media_type)
        problem = manifest_problem(content, media_type)
        if problem is not None:
            raise RegistryError(
                f"{ref.domain}: {what} {problem} (Content-Type {reply.headers.get('Content-Type')!r}, "
                f"{len(content)} bytes); the registry did not answer with an image manifest. Check the "
                "registry address and that it speaks the OCI distribution API"
            )
        return Manifest(digest=digest, media_type=media_type, content=content)

    def head_manifest(self, ref: ImageReference, reference: str) -> str | None:
        """The digest a tag or digest points at, or None when absent."""
        reply = self.request(
            "HEAD",
            ref.domain,
            f"/v2/{ref.path}/manifests/{reference}",
            scope=self._scope(ref.path, "pull"),
            headers={"Accept": MANIFEST_ACCEPT},
            expect=(200, 404),
            what=f"manifest {ref.path}:{reference}",
        )
        if reply.status == 404:
            return None
        digest: str | None = reply.headers.get("Docker-Content-Digest")
        return digest

    def blob_exists(self, ref: ImageReference, digest: str) -> bool:
        reply = self.request(
            "HEAD",
            ref.domain,
            f"/v2/{ref.path}/blobs/{digest}",
            scope=self._scope(ref.path, "pull"),
            expect=(200, 404),
            what=f"blob {digest[:19]}",
        )
        return reply.status == 200

    def put_manifest(self, ref: ImageReference, reference: str, manifest: Manifest) -> str | None:
        """Push ``manifest`` under ``reference``; the digest the registry says it stored, if it says."""
        reply = self.request(
            "PUT",
            ref.domain,
            f"/v2/{ref.path}/manifests/{reference}",
            scope=self._scope(ref.path, "pull,push"),
            headers={"Content-Type": manifest.media_type},
            content=manifest.content,
            expect=(201,),
            what=f"push manifest {ref.path}:{reference}",
        )
        digest: str | None = reply.headers.get("Docker-Content-Digest")
        return digest

    def mount_blob(self, destination: ImageReference, source: ImageReference, digest: str) -> bool:
        """Cross-repository mount on one registry; True when the registry mounted it."""
        reply = self.request(
            "POST",
            destination.domain,
            f"/v2/{destination.path}/blobs/uploads/",
            scope=f"{self._scope(destination.path, 'pull,push')} {self._scope(source.path, 'pull')}",
            params={"mount": digest, "from": source.path},
            expect=(201, 202),
            what=f"mount {digest[:19]}",
        )
        if reply.status == 202:  # an upload session was opened instead: cancel it
            location = reply.headers.get("Location")
            if location:
                self.request(
                    "DELETE",
                    destination.domain,
                    location,
                    scope=self._scope(destination.path, "pull,push"),
                    expect=(204, 404, 405),
                    what="cancel upload",
                )
            return False
        return True

    def copy_blob(
        self,
        source: ImageReference,
        destination: ImageReference,
        descriptor: Mapping[str, Any],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Stream one blob from source to destination, verifying its digest; return bytes sent."""
        digest = str(descriptor["digest"])
        algorithm = digest_algorithm(digest)
        if algorithm is None:
            raise RegistryError(
                f"{source.domain}: blob digest {digest!r} of {source.path} cannot be verified"
            )
        size = int(descriptor.get("size", 0))
        chunks = self.stream(
            "GET",
            source.domain,
            f"/v2/{source.path}/blobs/{digest}",
            scope=self._scope(source.path, "pull"),
            # The digest is of the stored bytes: no transfer compression, read them raw.
            headers={"Accept-Encoding": "identity"},
            what=f"blob {digest[:19]} of {source.path}",
        )
        start = self.request(
            "POST",
            destination.domain,
            f"/v2/{destination.path}/blobs/uploads/",
            scope=self._scope(destination.path, "pull,push"),
            expect=(202,),
            what=f"start upload to {destination.path}",
        )
        location = start.headers.get("Location")
        if not location:
            chunks.close()
            raise RegistryError(
                f"{destination.domain}: starting an upload to {destination.path} answered 202 without a "
                "Location header; the registry does not follow the distribution API"
            )
        upload = Deadline(self.deadline_seconds)
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            hasher = hashlib.new(algorithm)
            for chunk in chunks:
                hasher.update(chunk)
                sent += len(chunk)
                upload.progress()  # the upload is due within the deadline after its last MiB
                if progress is not None:
                    progress(len(chunk))
                yield chunk
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest:
                # Raising here aborts the PUT before its body ends: nothing is committed.
                raise RegistryError(
                    f"{source.domain}: blob {digest} of {source.path} arrived as {actual} "
                    f"({sent} bytes); refusing to upload altered content"
                )

        separator = "&" if "?" in location else "?"
        try:
            self.request(
                "PUT",
                destination.domain,
                f"{location}{separator}digest={digest}",
                scope=self._scope(destination.path, "pull,push"),
                headers={
                    "Content-Type": "application/octet-stream",
                    **({"Content-Length": str(size)} if size else {}),
                },
                content=body(),
                expect=(201,),
                what=f"upload blob {digest[:19]} to {destination.path}",
                replayable=False,
                deadline=upload,
            )
        finally:
            chunks.close()  # a generator: closing it releases (or drops) the source connection
        with self._counter:
            self.bytes_uploaded += sent
        return sent
