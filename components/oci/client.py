"""A focused client for the OCI distribution API (no pulumi import).

httpx rather than a registry library: oras-py copies through a local layout and has no
cross-repository mount; python-dxf's digest helper returns the config digest. The work of a
copy is hashing and moving bytes, so a direct client that controls ``Accept`` headers, mounts,
streaming and concurrency is both simpler and as fast (see README, Performance).

Behaviour (distribution spec and the measured quirks in ``shared/notes/registry-facts.md``):
- auth: a registry with a login in the auth file gets it up front (Basic) on the first request,
  which saves the anonymous round trip, and clients that wait for a 401 break on large uploads;
  a Bearer challenge switches that registry to tokens, one per scope, cached;
- trust: a CA bundle per registry; plain HTTP only for registries declared insecure;
- manifests are requested with every OCI and Docker manifest/index media type in ``Accept``
  and verified against their digest; blobs stream through sha256 verification and an upload
  whose bytes do not match is aborted before the registry can commit it;
- retries with exponential backoff on 5xx, 429 and connection errors; clear errors for
  401/403/404 and ``MANIFEST_BLOB_UNKNOWN``.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

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
CHUNK = 1 << 20


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


def _context(ca_bundle: str) -> ssl.SSLContext:
    """Trust exactly this CA bundle (the registry's own CA; system roots are not needed)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_bundle)
    return context


def _rechunk(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Join the socket's small reads (one TLS record, <= 16 KiB, each) into ``size`` chunks:
    every chunk is one write on the upload side, and per-write overhead dominates otherwise."""
    held: list[bytes] = []
    length = 0
    for piece in pieces:
        held.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(held)
            held, length = [], 0
    if held:
        yield b"".join(held)


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class _Auth:
    scheme: str | None = None
    realm: str | None = None
    service: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class RegistryClient:
    """Thread-safe: one ``httpx.Client`` per registry, shared by worker threads."""

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
        self.timeout = timeout
        self._clients: dict[str, httpx.Client] = {}
        self._auth: dict[str, _Auth] = {}
        self._lock = threading.Lock()
        self.bytes_uploaded = 0
        self._counter = threading.Lock()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------
    def _client(self, registry: str) -> httpx.Client:
        with self._lock:
            client = self._clients.get(registry)
            if client is None:
                transport = self.transports.get(registry, RegistryTransport())
                verify: ssl.SSLContext | bool = True
                if transport.ca_bundle:
                    verify = _context(transport.ca_bundle)
                scheme = "http" if transport.insecure else "https"
                client = httpx.Client(
                    base_url=f"{scheme}://{registry}",
                    verify=verify,
                    timeout=self.timeout,
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                    follow_redirects=True,
                )
                self._clients[registry] = client
                # A login for this registry is sent with the first request; a Bearer
                # challenge in answer switches the registry to tokens.
                self._auth[registry] = _Auth(scheme="basic" if registry in self.credentials else None)
            return client

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
        transport = self.transports.get(registry, RegistryTransport())
        verify: ssl.SSLContext | bool = _context(transport.ca_bundle) if transport.ca_bundle else True
        try:
            response = httpx.get(
                auth.realm, params=params, headers=headers, verify=verify, timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise RegistryError(f"{registry}: token service {auth.realm} unreachable: {error}") from None
        if response.status_code in (401, 403):
            who = f"user {credential.username!r}" if credential else "anonymous access"
            raise RegistryError(
                f"{registry}: token service refused {who} for {scope or 'the registry'} "
                f"({response.status_code}); "
                "check the credentials in the auth file"
            )
        if response.status_code != 200:
            raise RegistryError(f"{registry}: token service answered {response.status_code}")
        body = response.json()
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
    ) -> httpx.Response:
        """One API call with auth, retries and clear errors. ``url`` is relative or absolute."""
        client = self._client(registry)
        attempt = 0
        authenticated_retry = False
        while True:
            all_headers = {**(headers or {}), **self._authorization(registry, scope)}
            try:
                request = client.build_request(
                    method, url, headers=all_headers, content=content, params=params
                )
                response = client.send(request, stream=stream)
            except (httpx.TransportError, ssl.SSLError) as error:
                if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
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
            if response.status_code == 401 and not authenticated_retry:
                challenge = response.headers.get("WWW-Authenticate", "")
                response.close()
                authenticated_retry = True
                if challenge and replayable:
                    self._challenge(registry, challenge)
                    self._auth[registry].tokens.pop(scope, None)
                    continue
                raise self._error(registry, response, what or f"{method} {url}")
            if response.status_code in RETRYABLE and attempt < self.retries and replayable:
                response.close()
                attempt += 1
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code not in expect:
                raise self._error(registry, response, what or f"{method} {url}")
            return response

    def _error(self, registry: str, response: httpx.Response, what: str) -> RegistryError:
        try:
            response.read()
            errors = response.json().get("errors") or []
            codes = ", ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except (ValueError, AttributeError, httpx.HTTPError):
            codes = ""
        status = response.status_code
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
        return RegistryError(
            f"{registry}: {what} failed with HTTP {status} ({codes or response.reason_phrase})"
        )

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
        content = response.content
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
        if response.status_code == 404:
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
        return response.status_code == 200

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
        if response.status_code == 202:  # an upload session was opened instead: cancel it
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
            try:
                for chunk in _rechunk(response.iter_raw(), CHUNK):
                    hasher.update(chunk)
                    sent += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                    yield chunk
            finally:
                response.close()
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
        except RegistryError:
            raise
        except httpx.HTTPError as error:
            raise RegistryError(f"{destination.domain}: upload of {digest[:19]} failed: {error}") from None
        with self._counter:
            self.bytes_uploaded += sent
        return sent
