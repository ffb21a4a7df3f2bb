"""Crossplane packages against a real registry: the exact reference each package object carries
(after Crossplane's ImageConfig rewrite) resolves, with the CA bundle airlock puts in the
ConfigMap, on a registry with a private CA on a non-standard port — and is refused without it.

The registry is the Debian ``docker-registry`` (CNCF distribution) with TLS from a test CA on a
free port of 127.0.0.1; it holds a package image built here (an OCI image whose layer holds
``package.yaml``, annotated as the xpkg base layer). The plan is a program composing
ImageConfig and the Crossplane component with a policy that mirrors ``xpkg.crossplane.io`` to
that registry; both ``packageSource`` modes are checked, by airlock's OCI client and by skopeo.
Guards: a CA that is not in the ConfigMap, a rewrite that lands on a path the mirror does not
hold, a reference that passes in the plan but fails the registry.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airlock.images.reference import parse
from airlock.oci.client import RegistryClient, RegistryError, RegistryTransport
from airlock.plan.engine import record_program
from airlock.plan.manifests import kubernetes_objects
from tests.components.crossplane_schemas import PACKAGE
from tests.support.crd import validate_custom_resource
from tests.support.crossplane import fetched
from tests.support.oci_layout import build_package_layout
from tests.support.registry import RunningRegistry, start_registry

pytestmark = pytest.mark.realserver

PACKAGE_SOURCE = "xpkg.crossplane.io/crossplane-contrib/provider-test:v1.0.0"
PACKAGE_YAML = textwrap.dedent(
    """\
    apiVersion: meta.pkg.crossplane.io/v1
    kind: Provider
    metadata:
      name: provider-test
    """
)
PROGRAM = """
import json
import pulumi
from airlock.crossplane.component import Crossplane, CrossplaneArgs
from airlock.crossplane.images import image_requests
from airlock.crossplane.settings import CrossplaneSettings
from airlock.image_config import ImageConfig, ImageConfigArgs
from airlock.images.policy import ImagePolicy

settings = CrossplaneSettings.model_validate(json.loads(SETTINGS))
policy = ImagePolicy.model_validate(json.loads(POLICY))
images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=image_requests(settings)))
Crossplane("xp", CrossplaneArgs(settings=settings, image_config=images, policy=policy))
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory, test_ca) -> Any:
    directory = tmp_path_factory.mktemp("xpkg")
    running = start_registry(directory / "registry", ca=test_ca)
    layout = build_package_layout(directory / "layout", "v1.0.0", PACKAGE_YAML)
    # the mirror holds the package where the policy puts it (nest layout)
    target = f"docker://{running.endpoint}/xpkg.crossplane.io/crossplane-contrib/provider-test:v1.0.0"
    pushed = skopeo("copy", "--dest-cert-dir", str(running.cert_dir), f"oci:{layout.path}:v1.0.0", target)
    assert pushed.returncode == 0, pushed.stderr
    yield running, layout
    running.stop()


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120, check=False)


def plan(tmp_path: Path, registry: RunningRegistry, mode: str) -> list[dict[str, Any]]:
    assert registry.ca is not None
    settings = {
        "packageSource": mode,
        "packages": [{"kind": "Provider", "name": "provider-test", "package": PACKAGE_SOURCE}],
    }
    policy = {
        "registry": {"to": registry.endpoint, "layout": "nest"},
        "registries": {registry.endpoint: {"caBundle": registry.ca.certificate_pem}},
        "pin": "off",
    }
    program = PROGRAM.replace("SETTINGS", repr(json.dumps(settings))).replace(
        "POLICY", repr(json.dumps(policy))
    )
    project = tmp_path / mode
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: xp\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(program)
    return kubernetes_objects(record_program(project, "dev"))


@pytest.mark.parametrize("mode", ["mirror", "rewrite"])
def test_the_reference_each_package_carries_resolves_with_the_ca_bundle_and_only_with_it(
    tmp_path, registry, mode
):
    running, layout = registry
    objects = plan(tmp_path, running, mode)
    (provider,) = [o for o in objects if o["kind"] == "Provider"]
    configs = [o for o in objects if o["kind"] == "ImageConfig"]
    (config_map,) = [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "airlock-registry-ca"
    ]
    bundle = config_map["data"]["ca.crt"]
    assert validate_custom_resource(PACKAGE, provider) == []  # 127.0.0.1 has dots: the CEL rule passes
    reference = fetched(provider["spec"]["package"], configs)
    assert reference == f"{running.endpoint}/xpkg.crossplane.io/crossplane-contrib/provider-test:v1.0.0"
    if mode == "rewrite":
        assert provider["spec"]["package"] == PACKAGE_SOURCE

    # airlock's OCI client, trusting exactly the ConfigMap's bundle
    ref = parse(reference)
    with RegistryClient(
        transports={running.endpoint: RegistryTransport(ca_bundle=bundle)}, retries=0
    ) as client:
        manifest = client.get_manifest(ref)
    assert manifest.digest == layout.index_digest
    assert manifest.data["layers"][0]["annotations"] == {"io.crossplane.xpkg": "base"}
    with RegistryClient(retries=0, timeout=10) as client, pytest.raises(RegistryError) as refused:
        client.get_manifest(ref)  # the system roots do not know the private CA
    assert "certificate" in str(refused.value).lower()

    # skopeo, with a certificate directory holding only the ConfigMap's bundle
    certs = tmp_path / f"certs-{mode}"
    certs.mkdir()
    (certs / "ca.crt").write_text(bundle)
    trusted = skopeo("inspect", "--raw", "--cert-dir", str(certs), f"docker://{reference}")
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["layers"][0]["annotations"] == {"io.crossplane.xpkg": "base"}
    empty = tmp_path / f"empty-{mode}"
    empty.mkdir()
    untrusted = skopeo("inspect", "--raw", "--cert-dir", str(empty), f"docker://{reference}")
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr
