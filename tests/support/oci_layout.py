"""Build small OCI image layouts in Python (no Docker): random layers, real digests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Layout:
    path: Path
    tag: str
    index_digest: str
    """Digest of the image index (multi-platform) or of the manifest (single)."""
    platform_digests: dict[str, str]
    blob_bytes: int
    shared_bytes: int = 0


def _write_blob(blobs: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def layer_blob(size: int) -> bytes:
    """A gzip tar layer of ``size`` random bytes: incompressible, like real binaries."""
    payload = os.urandom(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("data.bin")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return gzip.compress(buffer.getvalue(), compresslevel=1, mtime=0)


def build_layout(
    directory: Path,
    tag: str = "v1",
    platforms: tuple[str, ...] = ("linux/amd64",),
    layer_size: int = 1024,
    shared_layers: tuple[bytes, ...] = (),
) -> Layout:
    """An OCI layout with one image per platform; an index when there are several. Each image
    has ``shared_layers`` (the same blobs in every image built with them: a common base) and
    one random layer of its own. ``blob_bytes`` counts the image's own blobs only (its
    layers and configs), ``shared_bytes`` the shared layers once."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    manifests = []
    platform_digests: dict[str, str] = {}
    total = 0
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        layers = [*shared_layers, layer_blob(layer_size)]
        descriptors = []
        for layer in layers:
            layer_digest, layer_len = _write_blob(blobs, layer)
            descriptors.append({"mediaType": LAYER, "digest": layer_digest, "size": layer_len})
        diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest() for layer in layers]
        config = json.dumps(
            {"architecture": arch, "os": os_name, "rootfs": {"type": "layers", "diff_ids": diff_ids}},
            sort_keys=True,
        ).encode()
        config_digest, config_len = _write_blob(blobs, config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_len},
                "layers": descriptors,
            },
            sort_keys=True,
        ).encode()
        manifest_digest, manifest_len = _write_blob(blobs, manifest)
        total += int(descriptors[-1]["size"]) + config_len
        platform_digests[platform] = manifest_digest
        manifests.append(
            {
                "mediaType": MANIFEST,
                "digest": manifest_digest,
                "size": manifest_len,
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    if len(platforms) > 1:
        index = json.dumps(
            {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}, sort_keys=True
        ).encode()
        top_digest, top_len = _write_blob(blobs, index)
        top = {"mediaType": INDEX, "digest": top_digest, "size": top_len}
    else:
        top = {key: manifests[0][key] for key in ("mediaType", "digest", "size")}
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return Layout(directory, tag, str(top["digest"]), platform_digests, total, sum(map(len, shared_layers)))


def build_package_layout(directory: Path, tag: str, package_yaml: str) -> Layout:
    """A Crossplane package (xpkg): one image whose layer holds ``package.yaml``, annotated as
    the package's base layer (``io.crossplane.xpkg: base``, the xpkg specification)."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    buffer = io.BytesIO()
    data = package_yaml.encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("package.yaml")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    layer = gzip.compress(buffer.getvalue(), compresslevel=1, mtime=0)
    layer_digest, layer_len = _write_blob(blobs, layer)
    diff_id = "sha256:" + hashlib.sha256(buffer.getvalue()).hexdigest()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
        sort_keys=True,
    ).encode()
    config_digest, config_len = _write_blob(blobs, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_len},
            "layers": [
                {
                    "mediaType": LAYER,
                    "digest": layer_digest,
                    "size": layer_len,
                    "annotations": {"io.crossplane.xpkg": "base"},
                }
            ],
        },
        sort_keys=True,
    ).encode()
    manifest_digest, manifest_len = _write_blob(blobs, manifest)
    top = {
        "mediaType": MANIFEST,
        "digest": manifest_digest,
        "size": manifest_len,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return Layout(directory, tag, manifest_digest, {"linux/amd64": manifest_digest}, layer_len + config_len)
