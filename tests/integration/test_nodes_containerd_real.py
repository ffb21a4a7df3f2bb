"""The containerd ``hosts.toml`` tree and CRI config snippet airlock renders, used by a real
containerd 1.6 (``ctr images pull --hosts-dir``) against a real registry.

The upstream is ``127.0.0.2:<port>``, where only a listener that counts connections (and closes them)
answers, so an image is pulled only when the generated ``<upstream>/hosts.toml`` sends the
upstream name to the mirror, under the exact path the image policy puts it
(``resolve(...).final``). The mirror is the Debian ``docker-registry`` (CNCF distribution) with
TLS from this module's own CA on a free port of 127.0.0.1, trusted only through the generated
``<mirror>/ca.crt`` that the ``ca`` key names relative to the hosts.toml's directory. Every test
runs its own containerd (root, state and socket in a temporary directory, CRI disabled).

Guards: a host URL that drops or doubles a path component for a layout (nest, flatten, replace
into a path; ``override_path`` missing), a ``ca`` path that does not resolve to the tree's
``ca.crt``, a TLS mirror that works without the CA (skip-verify or a system trust path),
``forbidden`` that still contacts the upstream and ``fallback`` that never does, a plain-HTTP
mirror written as ``https://`` or with ``skip_verify``, a CRI snippet containerd rejects or
that lands under another key, and any host off the loopback network.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import tomli_w

from airlock.images.policy import ImagePolicy, MirrorRule, RegistryTrust, resolve
from airlock.nodes.containerd import CAPABILITIES, basic_auth, config_snippet, hosts_tree
from airlock.nodes.plan import node_plan
from airlock.nodes.settings import NodesSettings
from tests.support.containerd import Containerd, require, running_containerd
from tests.support.oci_layout import Layout, build_layout
from tests.support.registry import RunningRegistry, start_registry
from tests.support.upstream import UPSTREAM_HOST, ConnectionCounter, free_upstream_port

pytestmark = pytest.mark.realserver

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
MODES = ("forbidden", "fallback")
REPOSITORY = "library/test"
# case -> (layout, the rule's target path below the mirror): each its own path, so a misrouted
# request 404s; "flatten-root" has no path (no override_path, containerd appends /v2 itself)
CASES = {
    "nest": ("nest", "nest"),
    "flatten": ("flatten", "flat"),
    "replace": ("replace", "mirror/up"),
    "flatten-root": ("flatten", ""),
}


@pytest.fixture
def upstream() -> Iterator[tuple[str, ConnectionCounter]]:
    """A fresh upstream address of 127.0.0.2 and the counter listening on it."""
    address = f"{UPSTREAM_HOST}:{free_upstream_port()}"
    counter = ConnectionCounter(address)
    yield address, counter
    counter.stop()


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Layout:
    return build_layout(tmp_path_factory.mktemp("layout"), tag="v1", platforms=("linux/amd64", "linux/arm64"))


@pytest.fixture
def containerd() -> Iterator[Containerd]:
    with running_containerd() as daemon:
        yield daemon


def seed(registry: RunningRegistry, layout: Layout, reference: str) -> None:
    """Put ``layout`` into the mirror at ``reference`` (host:port/path:tag of that mirror)."""
    assert reference.startswith(f"{registry.endpoint}/"), reference
    tls = ["--dest-cert-dir", str(registry.cert_dir)] if registry.ca else ["--dest-tls-verify=false"]
    pushed = subprocess.run(
        [
            require("skopeo"),
            "copy",
            "--all",
            *tls,
            f"oci:{layout.path}:{layout.tag}",
            f"docker://{reference}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert pushed.returncode == 0, pushed.stderr


def host_urls(text: str) -> list[str]:
    """The URLs a hosts.toml sends requests to: its ``[host."…"]`` tables, then ``server``."""
    parsed = tomllib.loads(text)
    return [*parsed.get("host", {}), *([parsed["server"]] if "server" in parsed else [])]


def assert_loopback_only(tree: dict[str, str]) -> None:
    """Every host URL of every hosts.toml is an IP literal of 127.0.0.0/8 (a name such as
    localhost is not accepted: it could resolve elsewhere)."""
    for path, text in tree.items():
        if path.endswith("hosts.toml"):
            urls = host_urls(text)
            assert urls, f"{path} has no host: containerd 1.6.20 would ignore it"
            for url in urls:
                hostname = urlsplit(url).hostname
                assert hostname is not None, url
                assert ipaddress.ip_address(hostname) in LOOPBACK, f"{path}: {url} is not on 127.0.0.0/8"


def render(policy: ImagePolicy, mode: str, cas: dict[str, str], directory: Path) -> dict[str, str]:
    """The generated tree, written under ``directory`` (every one is checked to stay local)."""
    tree = hosts_tree(node_plan(policy, NodesSettings(upstream=mode)), cas)
    assert_loopback_only(tree)
    write_tree(tree, directory)
    return tree


def write_tree(tree: dict[str, str], directory: Path) -> None:
    for relative, text in tree.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def tls_policy(rule: MirrorRule, mirror: RunningRegistry) -> ImagePolicy:
    assert mirror.ca is not None
    return ImagePolicy(
        mirrors=(rule,), registries={mirror.endpoint: RegistryTrust(ca_bundle=mirror.ca.certificate_pem)}
    )


def cas_of(mirror: RunningRegistry) -> dict[str, str]:
    assert mirror.ca is not None
    return {mirror.endpoint: mirror.ca.certificate_pem}


def assert_pulled(
    containerd: Containerd, pulled: subprocess.CompletedProcess[str], name: str, layout: Layout
) -> None:
    """The pull succeeded and containerd holds the byte-identical index and both platforms."""
    assert pulled.returncode == 0, pulled.stderr
    assert containerd.index_digest(name) == layout.index_digest
    content = containerd.content_digests()
    assert layout.index_digest in content
    assert set(layout.platform_digests.values()) <= content  # --all-platforms: arm64 came through too


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_the_upstream_name_is_pulled_from_the_tls_mirror_where_the_policy_puts_it(
    tmp_path, tls_mirror, upstream, layout, containerd, case, mode
):
    address, counter = upstream
    layout_name, path = CASES[case]
    to = f"{tls_mirror.endpoint}/{path}" if path else tls_mirror.endpoint
    policy = tls_policy(MirrorRule(source=address, to=to, layout=layout_name), tls_mirror)
    source = f"{address}/{REPOSITORY}:v1"
    final = str(resolve(source, policy).final)
    assert (
        final
        == {
            "nest": f"{tls_mirror.endpoint}/nest/{address.replace(':', '_')}/{REPOSITORY}:v1",
            "flatten": f"{tls_mirror.endpoint}/flat/{REPOSITORY}:v1",
            "replace": f"{tls_mirror.endpoint}/mirror/up/{REPOSITORY}:v1",
            "flatten-root": f"{tls_mirror.endpoint}/{REPOSITORY}:v1",
        }[case]
    )
    seed(tls_mirror, layout, final)

    tree = render(policy, mode, cas_of(tls_mirror), tmp_path / "certs.d")
    # what containerd does with the tree first, then the shape of the files
    pulled = containerd.pull(source, tmp_path / "certs.d")
    assert_pulled(containerd, pulled, source, layout)
    assert counter.count == 0  # the mirror served everything; the upstream was never needed

    assert sorted(tree) == sorted(
        [f"{address}/hosts.toml", f"{tls_mirror.endpoint}/hosts.toml", f"{tls_mirror.endpoint}/ca.crt"]
    )
    assert tree[f"{tls_mirror.endpoint}/ca.crt"] == tls_mirror.ca.certificate_pem
    text = tree[f"{address}/hosts.toml"]
    assert "skip_verify" not in text
    parsed = tomllib.loads(text)
    prefix = final.removesuffix(f"/{REPOSITORY}:v1").removeprefix(tls_mirror.endpoint).strip("/")
    mirror_url = f"https://{tls_mirror.endpoint}" + (f"/v2/{prefix}" if prefix else "")
    expected_table: dict[str, Any] = {
        "capabilities": list(CAPABILITIES),
        "ca": f"../{tls_mirror.endpoint}/ca.crt",
    }
    if prefix:
        expected_table["override_path"] = True
    assert parsed["host"] == {mirror_url: expected_table}
    if mode == "forbidden":
        assert parsed["server"] == mirror_url
        assert {key: parsed[key] for key in expected_table} == expected_table
    else:
        assert set(parsed) == {"host"}  # the upstream stays the server, tried after the mirror


def test_the_mirror_own_hosts_toml_lets_a_node_pull_the_final_reference(
    tmp_path, tls_mirror, upstream, layout, containerd
):
    address, counter = upstream
    policy = tls_policy(
        MirrorRule(source=address, to=f"{tls_mirror.endpoint}/own", layout="nest"), tls_mirror
    )
    final = str(resolve(f"{address}/{REPOSITORY}:v1", policy).final)
    seed(tls_mirror, layout, final)
    tree = render(policy, "forbidden", cas_of(tls_mirror), tmp_path / "certs.d")
    own = tomllib.loads(tree[f"{tls_mirror.endpoint}/hosts.toml"])
    url = f"https://{tls_mirror.endpoint}"
    assert own["server"] == url
    assert own["host"] == {url: {"capabilities": list(CAPABILITIES), "ca": "ca.crt"}}

    pulled = containerd.pull(final, tmp_path / "certs.d")
    assert_pulled(containerd, pulled, final, layout)
    assert counter.count == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_mirror_the_nodes_reach_under_another_address_is_pulled_by_its_name(
    tmp_path, tls_mirror, upstream, layout, containerd, mode
):
    """kind's local registry: images name ``127.0.0.3:<port>`` (nothing listens there), the
    nodes reach it as 127.0.0.1:<port>; the directory and the CA keep the name."""
    address, counter = upstream
    named = f"127.0.0.3:{tls_mirror.port}"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.3", tls_mirror.port)) != 0
    assert tls_mirror.ca is not None
    policy = ImagePolicy(
        mirrors=(MirrorRule(source=address, to=f"{named}/kind", layout="nest"),),
        registries={named: RegistryTrust(ca_bundle=tls_mirror.ca.certificate_pem)},
    )
    source = f"{address}/{REPOSITORY}:v1"
    final = str(resolve(source, policy).final)
    assert final == f"{named}/kind/{address.replace(':', '_')}/{REPOSITORY}:v1"
    seed(tls_mirror, layout, final.replace(named, tls_mirror.endpoint, 1))
    plan = node_plan(policy, NodesSettings(upstream=mode), addresses={named: tls_mirror.endpoint})
    tree = hosts_tree(plan, {named: tls_mirror.ca.certificate_pem})
    assert_loopback_only(tree)
    write_tree(tree, tmp_path / "certs.d")
    assert sorted(tree) == sorted([f"{address}/hosts.toml", f"{named}/hosts.toml", f"{named}/ca.crt"])

    for reference in (source, final):
        pulled = containerd.pull(reference, tmp_path / "certs.d")
        assert_pulled(containerd, pulled, reference, layout)
    assert counter.count == 0
    own = tomllib.loads(tree[f"{named}/hosts.toml"])
    assert own["server"] == f"https://{tls_mirror.endpoint}"
    assert tomllib.loads(tree[f"{address}/hosts.toml"])["host"] == {
        f"https://{tls_mirror.endpoint}/v2/kind/{address.replace(':', '_')}": {
            "capabilities": list(CAPABILITIES),
            "ca": f"../{named}/ca.crt",
            "override_path": True,
        }
    }


@pytest.mark.parametrize("mode", MODES)
def test_without_the_generated_ca_the_tls_mirror_is_refused(
    tmp_path, tls_mirror, upstream, layout, containerd, mode
):
    address, _ = upstream
    policy = tls_policy(
        MirrorRule(source=address, to=f"{tls_mirror.endpoint}/noca", layout="nest"), tls_mirror
    )
    source = f"{address}/{REPOSITORY}:v1"
    seed(tls_mirror, layout, str(resolve(source, policy).final))
    certs_d = tmp_path / "certs.d"
    tree = render(policy, mode, cas_of(tls_mirror), certs_d)
    ca_file = certs_d / tls_mirror.endpoint / "ca.crt"

    # the ca.crt the hosts.toml names is missing: containerd refuses, naming the file the relative
    # path resolved to (the tree's own ca.crt)
    ca_file.unlink()
    missing = containerd.pull(source, certs_d)
    assert missing.returncode != 0
    assert f'unable to read CA cert "{ca_file}"' in missing.stderr, missing.stderr

    # no CA at all (the ca keys dropped too): TLS verification fails against the mirror, so the
    # CA is what makes the pull work, not skip-verify or some other trust path
    for relative, text in tree.items():
        if relative.endswith("hosts.toml"):
            document = tomllib.loads(text)
            document.pop("ca", None)
            for table in document["host"].values():
                table.pop("ca", None)
            (certs_d / relative).write_text(tomli_w.dumps(document))
    refused = containerd.pull(source, certs_d)
    assert refused.returncode != 0
    assert "x509: certificate signed by unknown authority" in refused.stderr, refused.stderr
    assert tls_mirror.endpoint in refused.stderr  # it was the mirror that was refused
    assert source not in containerd.images()


@pytest.mark.parametrize("mode", MODES)
def test_forbidden_never_contacts_the_upstream_and_fallback_does(
    tmp_path, tls_mirror, upstream, containerd, mode
):
    address, counter = upstream
    policy = tls_policy(
        MirrorRule(source=address, to=f"{tls_mirror.endpoint}/miss", layout="nest"), tls_mirror
    )
    render(policy, mode, cas_of(tls_mirror), tmp_path / "certs.d")

    # the mirror does not hold this image
    pulled = containerd.pull(f"{address}/absent:v1", tmp_path / "certs.d")
    assert pulled.returncode != 0
    # the mirror was asked first, and answered 404 (ctr logs each host it gives up on)
    assert f'response was http.StatusNotFound" host="{tls_mirror.endpoint}"' in pulled.stderr, pulled.stderr
    if mode == "forbidden":
        assert "not found" in pulled.stderr.splitlines()[-1], pulled.stderr  # and only the mirror
        assert counter.count == 0
    else:
        assert counter.count >= 1  # containerd tried the upstream after the mirror


@pytest.mark.parametrize("mode", MODES)
def test_a_plain_http_mirror_is_pulled_over_http_without_skip_verify(
    tmp_path, plain_mirror, upstream, layout, containerd, mode
):
    address, counter = upstream
    rule = MirrorRule(source=address, to=f"{plain_mirror.endpoint}/plain", layout="nest")
    policy = ImagePolicy(mirrors=(rule,), registries={plain_mirror.endpoint: RegistryTrust(insecure=True)})
    source = f"{address}/{REPOSITORY}:v1"
    seed(plain_mirror, layout, str(resolve(source, policy).final))
    certs_d = tmp_path / "certs.d"
    tree = render(policy, mode, {}, certs_d)
    pulled = containerd.pull(source, certs_d)
    assert_pulled(containerd, pulled, source, layout)
    assert counter.count == 0

    assert sorted(tree) == sorted([f"{address}/hosts.toml", f"{plain_mirror.endpoint}/hosts.toml"])  # no CA
    for text in tree.values():
        assert "skip_verify" not in text
        assert "https://" not in text
        assert all(url.startswith(f"http://{plain_mirror.endpoint}") for url in host_urls(text))
    parsed = tomllib.loads(tree[f"{address}/hosts.toml"])
    mirror_url = f"http://{plain_mirror.endpoint}/v2/plain/{address.replace(':', '_')}"
    assert parsed["host"] == {mirror_url: {"capabilities": list(CAPABILITIES), "override_path": True}}
    assert parsed.get("server") == (mirror_url if mode == "forbidden" else None)

    # the same file with https:// fails: it is the http:// scheme that makes it work
    upstream_file = certs_d / address / "hosts.toml"
    upstream_file.write_text(tree[f"{address}/hosts.toml"].replace("http://", "https://"))
    refused = containerd.pull(source, certs_d)
    assert refused.returncode != 0
    assert "server gave HTTP response to HTTPS client" in refused.stderr, refused.stderr


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` merged into ``base``, tables recursively (as an operator merges a snippet)."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def config_dump(config: dict[str, Any] | str, path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(config if isinstance(config, str) else tomli_w.dumps(config))
    return subprocess.run(
        [require("containerd"), "--config", str(path), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cri_section(dumped: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert dumped.returncode == 0, dumped.stderr
    return dict(tomllib.loads(dumped.stdout)["plugins"]["io.containerd.grpc.v1.cri"])


def test_containerd_1_accepts_the_config_snippet_and_reads_config_path_from_it(tmp_path):
    certs_dir = "/some/dir"
    snippet_text = config_snippet("1", certs_dir)
    snippet = tomllib.loads(snippet_text)
    assert snippet["version"] == 2
    # the operator's own config (CRI enabled: config dump loads no plugin), then the snippet
    base = {
        "version": 2,
        "root": str(tmp_path / "root"),
        "state": str(tmp_path / "state"),
        "grpc": {"address": str(tmp_path / "c.sock")},
        "plugins": {"io.containerd.grpc.v1.cri": {"sandbox_image": "127.0.0.1:5000/pause:3.9"}},
    }
    assert cri_section(config_dump(base, tmp_path / "base.toml"))["registry"]["config_path"] == ""

    dumped = config_dump(merged(base, snippet), tmp_path / "config.toml")
    cri = cri_section(dumped)
    assert cri["registry"]["config_path"] == certs_dir
    assert f'config_path = "{certs_dir}"' in dumped.stdout
    assert cri["sandbox_image"] == "127.0.0.1:5000/pause:3.9"  # the merge kept the operator's keys
    assert cri["registry"]["mirrors"] == {}  # legacy mirrors next to config_path are an error
    assert tomllib.loads(dumped.stdout)["root"] == str(tmp_path / "root")

    # the snippet as written is a config containerd reads on its own too; and containerd does
    # check this section (a config_path it cannot read is refused), so the checks above can fail
    assert (
        cri_section(config_dump(snippet_text, tmp_path / "snippet.toml"))["registry"]["config_path"]
        == certs_dir
    )
    wrong = config_dump(snippet_text.replace(f'"{certs_dir}"', "5"), tmp_path / "wrong.toml")
    assert wrong.returncode != 0
    assert "Can't convert 5(int64) to string" in wrong.stderr, wrong.stderr


def test_the_containerd_2_snippet_is_version_3_under_the_images_plugin():
    snippet = tomllib.loads(config_snippet("2", "/etc/containerd/certs.d"))
    assert snippet["version"] == 3
    assert snippet["plugins"] == {
        "io.containerd.cri.v1.images": {"registry": {"config_path": "/etc/containerd/certs.d"}}
    }


def test_a_mirror_that_needs_a_login_is_pulled_with_the_generated_header_and_refused_without(
    tmp_path, mirror_ca, upstream, layout, containerd
):
    """ctr sends no login here (no --user), as the CRI sends none for a mirror of another
    registry: the Authorization header in hosts.toml is the only login the mirror sees."""
    address, counter = upstream
    mirror = start_registry(tmp_path / "auth-mirror", ca=mirror_ca, username="robot", password="n0de-pull")
    try:
        policy = ImagePolicy(
            mirrors=(MirrorRule(source=address, to=f"{mirror.endpoint}/hub", layout="replace"),),
            registries={mirror.endpoint: RegistryTrust(ca_bundle=mirror_ca.certificate_pem)},
        )
        source = f"{address}/{REPOSITORY}:v1"
        final = str(resolve(source, policy).final)
        pushed = subprocess.run(
            [
                "skopeo", "copy", "--all", "--dest-cert-dir", str(mirror.cert_dir),
                "--dest-creds", "robot:n0de-pull", f"oci:{layout.path}:{layout.tag}", f"docker://{final}",
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        plan = node_plan(policy, NodesSettings(upstream="forbidden"), login_hosts={mirror.endpoint})
        cas = {mirror.endpoint: mirror_ca.certificate_pem}

        anonymous = hosts_tree(plan, cas)
        assert_loopback_only(anonymous)
        write_tree(anonymous, tmp_path / "anonymous")
        refused = containerd.pull(source, tmp_path / "anonymous")
        assert refused.returncode != 0
        assert "401" in refused.stderr or "unauthorized" in refused.stderr.lower()

        with_login = hosts_tree(plan, cas, {mirror.endpoint: basic_auth("robot", "n0de-pull")})
        assert_loopback_only(with_login)
        write_tree(with_login, tmp_path / "login")
        assert_pulled(containerd, containerd.pull(source, tmp_path / "login"), source, layout)
        assert counter.count == 0
    finally:
        mirror.stop()
