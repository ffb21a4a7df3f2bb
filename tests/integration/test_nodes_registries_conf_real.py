"""The registries.conf v2 and ``certs.d`` files airlock renders for CRI-O and podman, used by the
real containers/image clients (skopeo 1.9, podman 4.3) against a real registry.

The upstream is ``127.0.0.2:<port>`` with nothing listening, so an image resolves only when the
generated file sends the upstream name to the mirror, under the exact path the image policy puts
it (``resolve(...).final``); the mirror is the Debian ``docker-registry`` (CNCF distribution)
with TLS from a private CA on a free port of 127.0.0.1, trusted only through the generated
``certs.d/<host:port>/ca.crt`` installed under ``/etc/containers/certs.d`` (removed afterwards).

Guards: a mirror location that drops or doubles a path component for a layout (nest, flatten,
replace), a CA file in a directory named otherwise than the host:port the client contacts,
``insecure`` missing for a plain-HTTP mirror (or written for a TLS one), a sub-path rule routed
with the rest of its registry, ``forbidden`` that still contacts the upstream, ``fallback`` that
never does, and any location off the loopback network.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airlock.images.policy import ImagePolicy, MirrorRule, RegistryTrust, resolve
from airlock.nodes.plan import NodePlan, node_plan
from airlock.nodes.registries_conf import certs_files, registries_conf
from airlock.nodes.settings import NodesSettings
from tests.support.oci_layout import Layout, build_layout
from tests.support.registry import RunningRegistry
from tests.support.upstream import UPSTREAM_HOST, ConnectionCounter, free_upstream_port

pytestmark = pytest.mark.realserver

SYSTEM_CERTS_D = Path("/etc/containers/certs.d")
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
MODES = ("forbidden", "fallback")
# layout -> the rule's target path below the mirror (each its own, so a misrouted request 404s)
LAYOUTS = {"nest": "nest", "flatten": "flat", "replace": "replaced/up"}


def require(binary: str) -> str:
    path = shutil.which(binary)
    assert path, f"{binary} is not installed; run 'make system-deps'"
    return path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, timeout=120, check=False, env=env)


def skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    return run(require("skopeo"), *args)


@pytest.fixture(scope="module")
def upstream() -> str:
    return f"{UPSTREAM_HOST}:{free_upstream_port()}"


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Layout]:
    directory = tmp_path_factory.mktemp("layouts")
    return {
        "multi": build_layout(directory / "multi", tag="v1", platforms=("linux/amd64", "linux/arm64")),
        "single": build_layout(directory / "single", tag="v1", platforms=("linux/amd64",)),
    }


def seed(registry: RunningRegistry, layout: Layout, reference: str) -> None:
    """Put ``layout`` into the mirror at ``reference`` (host:port/path:tag of that mirror)."""
    assert reference.startswith(f"{registry.endpoint}/"), reference
    tls = ["--dest-cert-dir", str(registry.cert_dir)] if registry.ca else ["--dest-tls-verify=false"]
    pushed = skopeo("copy", "--all", *tls, f"oci:{layout.path}:{layout.tag}", f"docker://{reference}")
    assert pushed.returncode == 0, pushed.stderr.decode()


def locations(text: str) -> list[str]:
    parsed = tomllib.loads(text)
    found = []
    for entry in parsed.get("registry", []):
        found.append(entry["location"])
        found += [mirror["location"] for mirror in entry.get("mirror", [])]
    return found


def on_loopback(location: str) -> bool:
    """host[:port][/path] names an address of 127.0.0.0/8 (a name such as localhost is not)."""
    domain = location.partition("/")[0]
    host = domain.rpartition(":")[0] if ":" in domain else domain
    try:
        return ipaddress.ip_address(host) in LOOPBACK
    except ValueError:
        return False


def assert_loopback_only(text: str) -> None:
    for location in locations(text):
        assert on_loopback(location), f"{location} is not on 127.0.0.0/8"


def render(policy: ImagePolicy, mode: str, directory: Path) -> tuple[NodePlan, Path]:
    """The generated registries.conf, written to a file (every one is checked to stay local)."""
    plan = node_plan(policy, NodesSettings(upstream=mode))
    text = registries_conf(plan)
    assert_loopback_only(text)
    path = directory / f"registries-{mode}.conf"
    path.write_text(text)
    return plan, path


@pytest.fixture
def certs_d() -> Iterator[Callable[[dict[str, str]], list[Path]]]:
    """Installs generated ``certs.d`` files under /etc/containers/certs.d; removes them (and the
    directories it created) afterwards, whatever the test's outcome."""
    written: list[Path] = []
    created: list[Path] = []

    def install(files: dict[str, str]) -> list[Path]:
        for relative, pem in files.items():
            target = SYSTEM_CERTS_D / relative
            for directory in (SYSTEM_CERTS_D, target.parent):
                if not directory.exists():
                    directory.mkdir(mode=0o755)
                    created.append(directory)
            assert not target.exists(), f"{target} exists already; refusing to overwrite it"
            target.write_text(pem)
            written.append(target)
        return list(written)

    yield install
    for path in written:
        path.unlink(missing_ok=True)
    for directory in reversed(created):
        with contextlib.suppress(OSError):
            directory.rmdir()


def tls_policy(rules: tuple[MirrorRule, ...], mirror: RunningRegistry) -> ImagePolicy:
    assert mirror.ca is not None
    return ImagePolicy(
        mirrors=rules, registries={mirror.endpoint: RegistryTrust(ca_bundle=mirror.ca.certificate_pem)}
    )


def ca_files(plan: NodePlan, mirror: RunningRegistry) -> dict[str, str]:
    assert mirror.ca is not None
    files = certs_files(plan, {mirror.endpoint: mirror.ca.certificate_pem})
    # named as the client contacts the mirror: exactly host:port, one directory deep
    assert files == {f"{mirror.endpoint}/ca.crt": mirror.ca.certificate_pem}
    return files


def inspect_digest(conf: Path, reference: str) -> str:
    result = skopeo("--registries-conf", str(conf), "inspect", "--raw", f"docker://{reference}")
    assert result.returncode == 0, result.stderr.decode()
    return "sha256:" + hashlib.sha256(result.stdout).hexdigest()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_upstream_name_resolves_through_the_tls_mirror_with_the_generated_ca(
    tmp_path, tls_mirror, upstream, layouts, certs_d, layout, mode
):
    rule = MirrorRule(source=upstream, to=f"{tls_mirror.endpoint}/{LAYOUTS[layout]}", layout=layout)
    policy = tls_policy((rule,), tls_mirror)
    source = f"{upstream}/library/test:v1"
    final = str(resolve(source, policy).final)
    expected_final = {
        "nest": f"{tls_mirror.endpoint}/nest/{upstream.replace(':', '_')}/library/test:v1",
        "flatten": f"{tls_mirror.endpoint}/flat/library/test:v1",
        "replace": f"{tls_mirror.endpoint}/replaced/up/library/test:v1",
    }[layout]
    assert final == expected_final
    seed(tls_mirror, layouts["multi"], final)

    plan, conf = render(policy, mode, tmp_path)
    text = conf.read_text()
    assert "insecure" not in text  # a TLS mirror is verified, never downgraded
    parsed = tomllib.loads(text)["registry"]
    assert [entry["prefix"] for entry in parsed] == [upstream]
    install_files = ca_files(plan, tls_mirror)
    certs_d(install_files)

    assert inspect_digest(conf, source) == layouts["multi"].index_digest
    # the whole image (both platforms' blobs) comes through the mirror too
    copied = skopeo(
        "--registries-conf", str(conf), "copy", "--all", f"docker://{source}", f"oci:{tmp_path}/out:v1"
    )
    assert copied.returncode == 0, copied.stderr.decode()
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [layouts["multi"].index_digest]
    for digest in layouts["multi"].platform_digests.values():
        assert (tmp_path / "out" / "blobs" / "sha256" / digest.removeprefix("sha256:")).is_file()


@pytest.mark.parametrize("mode", MODES)
def test_without_the_generated_ca_file_the_mirror_is_refused(tmp_path, tls_mirror, upstream, layouts, mode):
    rule = MirrorRule(source=upstream, to=f"{tls_mirror.endpoint}/nest", layout="nest")
    policy = tls_policy((rule,), tls_mirror)
    source = f"{upstream}/library/test:v1"
    seed(tls_mirror, layouts["multi"], str(resolve(source, policy).final))
    _, conf = render(policy, mode, tmp_path)
    assert not (SYSTEM_CERTS_D / tls_mirror.endpoint).exists()

    result = skopeo("--registries-conf", str(conf), "inspect", "--raw", f"docker://{source}")
    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert "certificate signed by unknown authority" in stderr, stderr
    assert tls_mirror.endpoint in stderr  # it was the mirror that was refused


@pytest.mark.parametrize("mode", MODES)
def test_a_plain_http_mirror_works_only_because_the_file_says_insecure(
    tmp_path, plain_mirror, upstream, layouts, mode
):
    rule = MirrorRule(source=upstream, to=f"{plain_mirror.endpoint}/plain", layout="nest")
    policy = ImagePolicy(mirrors=(rule,), registries={plain_mirror.endpoint: RegistryTrust(insecure=True)})
    source = f"{upstream}/library/test:v1"
    seed(plain_mirror, layouts["multi"], str(resolve(source, policy).final))
    plan, conf = render(policy, mode, tmp_path)
    assert certs_files(plan, {}) == {}  # plain HTTP: no CA file
    text = conf.read_text()
    entries = tomllib.loads(text)["registry"]
    mirror_tables = [entry for entry in entries if entry["prefix"] == upstream]
    assert len(mirror_tables) == 1
    (table,) = mirror_tables
    if mode == "forbidden":
        assert table["location"] == f"{plain_mirror.endpoint}/plain/{upstream.replace(':', '_')}"
        assert table["insecure"] is True
    else:
        assert table["location"] == upstream and "insecure" not in table  # the upstream keeps TLS
        assert table["mirror"] == [
            {"location": f"{plain_mirror.endpoint}/plain/{upstream.replace(':', '_')}", "insecure": True}
        ]

    assert inspect_digest(conf, source) == layouts["multi"].index_digest

    stripped = tmp_path / "stripped.conf"
    stripped.write_text("".join(line for line in text.splitlines(True) if line.strip() != "insecure = true"))
    assert "insecure" not in stripped.read_text()
    refused = skopeo("--registries-conf", str(stripped), "inspect", "--raw", f"docker://{source}")
    assert refused.returncode != 0
    stderr = refused.stderr.decode()
    assert "server gave HTTP response to HTTPS client" in stderr, stderr


def test_podman_pulls_the_upstream_name_through_the_tls_mirror(
    tmp_path, tls_mirror, upstream, layouts, certs_d
):
    podman = require("podman")
    rule = MirrorRule(source=upstream, to=f"{tls_mirror.endpoint}/podman", layout="nest")
    policy = tls_policy((rule,), tls_mirror)
    source = f"{upstream}/library/test:v1"
    seed(tls_mirror, layouts["multi"], str(resolve(source, policy).final))
    plan, conf = render(policy, "forbidden", tmp_path)
    certs_d(ca_files(plan, tls_mirror))

    state = tmp_path / "podman"
    (state / "tmp").mkdir(parents=True)
    storage = state / "storage.conf"
    storage.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{state}/graph"\nrunroot = "{state}/run"\n')
    containers = state / "containers.conf"
    containers.write_text(
        f'[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\ntmp_dir = "{state}/tmp"\n'
    )
    env = {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(storage),
        "CONTAINERS_CONF": str(containers),
        "CONTAINERS_REGISTRIES_CONF": str(conf),
    }
    try:
        pulled = run(podman, "pull", "--quiet", source, env=env)
        assert pulled.returncode == 0, pulled.stderr.decode()
        inspected = run(podman, "image", "inspect", source, env=env)
        assert inspected.returncode == 0, inspected.stderr.decode()
        (image,) = json.loads(inspected.stdout)
        index, amd64 = layouts["multi"].index_digest, layouts["multi"].platform_digests["linux/amd64"]
        # podman 4.3 stores the host's platform and records as the image's Digest the digest of
        # the manifest it fetched by tag, here the index; RepoDigests name the upstream (not the
        # mirror) with the index and the instance digests
        assert image["Digest"] == index
        assert image["Architecture"] == "amd64"
        assert sorted(image["RepoDigests"]) == sorted(
            [f"{upstream}/library/test@{index}", f"{upstream}/library/test@{amd64}"]
        )
        assert image["RepoTags"] == [source]
    finally:
        run(podman, "system", "reset", "--force", env=env)
        shutil.rmtree(state, ignore_errors=True)


@pytest.mark.parametrize("mode", MODES)
def test_a_sub_path_rule_is_routed_apart_from_its_registry(
    tmp_path, tls_mirror, upstream, layouts, certs_d, mode
):
    whole = MirrorRule(source=upstream, to=f"{tls_mirror.endpoint}/mirror", layout="nest")
    team = MirrorRule(source=f"{upstream}/team", to=f"{tls_mirror.endpoint}/other", layout="replace")
    policy = tls_policy((whole, team), tls_mirror)
    app, test = f"{upstream}/team/app:v1", f"{upstream}/library/test:v1"
    assert str(resolve(app, policy).final) == f"{tls_mirror.endpoint}/other/app:v1"
    seed(tls_mirror, layouts["single"], str(resolve(app, policy).final))
    seed(tls_mirror, layouts["multi"], str(resolve(test, policy).final))
    plan, conf = render(policy, mode, tmp_path)
    assert plan.containerd_problems  # hosts.toml cannot say this; registries.conf can
    certs_d(ca_files(plan, tls_mirror))

    assert inspect_digest(conf, app) == layouts["single"].index_digest
    assert inspect_digest(conf, test) == layouts["multi"].index_digest


@pytest.mark.parametrize("mode", MODES)
def test_forbidden_never_contacts_the_upstream_and_fallback_does(tmp_path, tls_mirror, certs_d, mode):
    address = f"{UPSTREAM_HOST}:{free_upstream_port()}"
    rule = MirrorRule(source=address, to=f"{tls_mirror.endpoint}/miss", layout="nest")
    policy = tls_policy((rule,), tls_mirror)
    plan, conf = render(policy, mode, tmp_path)
    certs_d(ca_files(plan, tls_mirror))
    counter = ConnectionCounter(address)
    try:
        # the mirror does not hold this image
        result = skopeo("--registries-conf", str(conf), "inspect", "--raw", f"docker://{address}/absent:v1")
    finally:
        counter.stop()
    assert result.returncode != 0
    assert "manifest unknown" in result.stderr.decode(), result.stderr.decode()
    if mode == "forbidden":
        assert counter.count == 0
    else:
        assert counter.count >= 1


def test_every_generated_location_is_on_the_loopback_network(tls_mirror, plain_mirror, upstream):
    rules = [
        MirrorRule(source=upstream, to=f"{tls_mirror.endpoint}/{path}", layout=layout)
        for layout, path in LAYOUTS.items()
    ] + [MirrorRule(source=f"{upstream}/team", to=f"{tls_mirror.endpoint}/other", layout="replace")]
    policies = [tls_policy((rule,), tls_mirror) for rule in rules]
    policies.append(tls_policy((rules[0], rules[-1]), tls_mirror))
    policies.append(
        ImagePolicy(
            mirrors=(MirrorRule(source=upstream, to=f"{plain_mirror.endpoint}/plain", layout="nest"),),
            registries={plain_mirror.endpoint: RegistryTrust(insecure=True)},
        )
    )
    checked = 0
    for policy in policies:
        for mode in MODES:
            text = registries_conf(node_plan(policy, NodesSettings(upstream=mode)))
            found = locations(text)
            assert found, text
            assert all(on_loopback(location) for location in found), text
            checked += len(found)
    assert checked >= 2 * len(policies)
