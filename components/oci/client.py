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
- redirects are followed for reads (GET, HEAD), at most five;
- manifests are requested with every OCI and Docker manifest/index media type in ``Accept``
  and verified against their digest; blobs stream through sha256 verification and an upload
  whose bytes do not match is aborted before the registry can commit it;
- retries with exponential backoff on 5xx, 429 and connection errors; clear errors for
  401/403/404 and ``MANIFEST_BLOB_UNKNOWN``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from ..images.dockerconfig import RegistryCredential
from ..images.reference import ImageReference

__all__ = [
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "Manifest",
    "RegistryClient",
    "RegistryError",
    "RegistryTransport",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
RETRYABLE = {429, 500, 502, 503, 504}
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 1 << 20
Response = urllib3.BaseHTTPResponse
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


def _context(ca_bundle: str | None, *, system: bool) -> ssl.SSLContext:
    """Trust ``ca_bundle``, and the system roots when ``system`` (or when there is no bundle)."""
    if system or not ca_bundle:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        context.load_verify_locations(cadata=ca_bundle)
    return context


def _discard(response: Response) -> None:
    """Done with ``response``: read what is left of a small body, give the connection back."""
    with contextlib.suppress(TransportError, OSError):
        response.drain_conn()
    response.release_conn()


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
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
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
                    timeout=self.timeout,
                    retries=False,
                )
                self._pools[(registry, own)] = pool
                # A login for this registry is sent with the first request; a Bearer
                # challenge in answer switches the registry to tokens.
                self._auth.setdefault(
                    registry, _Auth(scheme="basic" if registry in self.credentials else None)
                )
            return pool

    def _url(self, registry: str, url: str) -> str:
        if url.startswith(("https://", "http://")):
            return url
        insecure = self.transports.get(registry, RegistryTransport()).insecure
        return f"{'http' if insecure else 'https'}://{API_HOSTS.get(registry, registry)}{url}"

    def _authorization(self, registry: str, scope: str) -> dict[str, str]:
        auth = self._auth[registry]
        credential = self.credentials.get(registry)
        if auth.scheme == "basic" and credential is not None:
            return {"Authorization": f"Basic {credential.auth}"}
        if auth.scheme == "bearer":
            token = auth.tokens.get(scope) or self._token(registry, scope)
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

    def _token(self, registry: str, scope: str) -> str:
        auth = self._auth[registry]
        if not auth.realm:
            raise RegistryError(f"{registry}: bearer challenge without a realm")
        params = {"scope": scope} if scope else {}
        if auth.service:
            params["service"] = auth.service
        credential = self.credentials.get(registry)
        headers = {"Authorization": f"Basic {credential.auth}"} if credential else {}
        separator = "&" if "?" in auth.realm else "?"
        try:
            response = self._pool(registry, own=False).request(
                "GET", f"{auth.realm}{separator}{urlencode(params)}", headers=headers
            )
        except (TransportError, OSError) as error:
            raise RegistryError(f"{registry}: token service {auth.realm} unreachable: {error}") from None
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
            body = json.loads(response.data)
        except ValueError:
            body = {}
        token = str(body.get("token") or body.get("access_token") or "")
        if not token:
            raise RegistryError(f"{registry}: token service returned no token")
        with auth.lock:
            auth.tokens[scope] = token
        return token

    def request(
        self,
        method: str,
        registry: str,
        url: str,
        *,
        scope: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
        expect: tuple[int, ...] = (200,),
        what: str = "",
        replayable: bool = True,
    ) -> Response:
        """One API call with auth, redirects, retries and clear errors.

        ``url`` is a path on the registry or an absolute URL (an upload ``Location``). A
        ``stream`` response is unread: the caller reads it and releases or closes it."""
        target = self._url(registry, url)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        attempt = redirects = 0
        authenticated_retry = False
        while True:
            own = urlsplit(target).netloc == API_HOSTS.get(registry, registry)
            pool = self._pool(registry, own=own)
            all_headers = {**(headers or {}), **(self._authorization(registry, scope) if own else {})}
            try:
                response = pool.urlopen(
                    method,
                    target,
                    headers=all_headers,
                    body=content,
                    preload_content=not stream,
                    redirect=False,
                )
            except (TransportError, OSError) as error:
                if "CERTIFICATE_VERIFY_FAILED" in str(error):
                    raise RegistryError(
                        f"{registry}: TLS certificate not trusted ({error}); pass its CA with --ca-file "
                        f"{registry}=PATH or declare it in images.registries"
                    ) from None
                if attempt < self.retries and replayable:
                    attempt += 1
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise RegistryError(
                    f"{registry}: {what or method} failed: {type(error).__name__}: {error}"
                ) from None
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
                raise self._error(registry, response, what or f"{method} {url}")
            if status in RETRYABLE and attempt < self.retries and replayable:
                _discard(response)
                attempt += 1
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if status not in expect:
                raise self._error(registry, response, what or f"{method} {url}")
            return response

    def _error(self, registry: str, response: Response, what: str) -> RegistryError:
        try:
            errors = json.loads(response.read() or response.data).get("errors") or []
            codes = ", ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except (ValueError, AttributeError, TransportError, OSError):
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
        """Fetch a manifest by tag or digest; verify its bytes against the digest."""
        target = reference or ref.digest or ref.tag or "latest"
        response = self.request(
            "GET",
            ref.domain,
            f"/v2/{ref.path}/manifests/{target}",
            scope=self._scope(ref.path, "pull"),
            headers={"Accept": MANIFEST_ACCEPT},
            what=f"manifest {ref.path}:{target}",
        )
        content = response.data
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        expected = target if target.startswith("sha256:") else response.headers.get("Docker-Content-Digest")
        if expected and expected != digest:
            raise RegistryError(
                f"{ref.domain}: manifest {ref.path}:{target} has digest {digest}, expected {expected}; "
                "the bytes were altered in transit"
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0] or json.loads(content).get(
            "mediaType", ""
        )
        return Manifest(digest=digest, media_type=media_type, content=content)

    def head_manifest(self, ref: ImageReference, reference: str) -> str | None:
        """The digest a tag or digest points at, or None when absent."""
        response = self.request(
            "HEAD",
            ref.domain,
            f"/v2/{ref.path}/manifests/{reference}",
            scope=self._scope(ref.path, "pull"),
            headers={"Accept": MANIFEST_ACCEPT},
            expect=(200, 404),
            what=f"manifest {ref.path}:{reference}",
        )
        if response.status == 404:
            return None
        digest: str | None = response.headers.get("Docker-Content-Digest")
        return digest

    def blob_exists(self, ref: ImageReference, digest: str) -> bool:
        response = self.request(
            "HEAD",
            ref.domain,
            f"/v2/{ref.path}/blobs/{digest}",
            scope=self._scope(ref.path, "pull"),
            expect=(200, 404),
            what=f"blob {digest[:19]}",
        )
        return response.status == 200

    def put_manifest(self, ref: ImageReference, reference: str, manifest: Manifest) -> str | None:
        """Push ``manifest`` under ``reference``; the digest the registry says it stored, if it says."""
        response = self.request(
            "PUT",
            ref.domain,
            f"/v2/{ref.path}/manifests/{reference}",
            scope=self._scope(ref.path, "pull,push"),
            headers={"Content-Type": manifest.media_type},
            content=manifest.content,
            expect=(201,),
            what=f"push manifest {ref.path}:{reference}",
        )
        digest: str | None = response.headers.get("Docker-Content-Digest")
        return digest

    def mount_blob(self, destination: ImageReference, source: ImageReference, digest: str) -> bool:
        """Cross-repository mount on one registry; True when the registry mounted it."""
        response = self.request(
            "POST",
            destination.domain,
            f"/v2/{destination.path}/blobs/uploads/",
            scope=f"{self._scope(destination.path, 'pull,push')} {self._scope(source.path, 'pull')}",
            params={"mount": digest, "from": source.path},
            expect=(201, 202),
            what=f"mount {digest[:19]}",
        )
        if response.status == 202:  # an upload session was opened instead: cancel it
            location = response.headers.get("Location")
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
        """Stream one blob from source to destination, verifying sha256; return bytes sent."""
        digest = str(descriptor["digest"])
        size = int(descriptor.get("size", 0))
        response = self.request(
            "GET",
            source.domain,
            f"/v2/{source.path}/blobs/{digest}",
            scope=self._scope(source.path, "pull"),
            # The digest is of the stored bytes: no transfer compression, read them raw.
            headers={"Accept-Encoding": "identity"},
            stream=True,
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
        location = start.headers["Location"]
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            hasher = hashlib.sha256()
            complete = False
            try:
                # decode_content=False: the digest is of the stored bytes, as sent.
                for chunk in response.stream(CHUNK, decode_content=False):
                    hasher.update(chunk)
                    sent += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                    yield chunk
                complete = True
            finally:
                if not complete:  # the connection still holds unread bytes: drop it
                    response.close()
                response.release_conn()
            actual = "sha256:" + hasher.hexdigest()
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
            )
        except (TransportError, OSError) as error:
            raise RegistryError(f"{destination.domain}: upload of {digest[:19]} failed: {error}") from None
        with self._counter:
            self.bytes_uploaded += sent
        return sent
