"""The node plan and its renderers (pure): every layout as containerd and registries.conf express
it, what containerd cannot express refused with the rule and the fix, trust only where declared.

Guards: a mirror rule that nodes never apply (pods created by other controllers pull upstream),
a nested mirror missing ``override_path`` (containerd asks ``/<prefix>/v2/…``), ``skip_verify``
or plain HTTP where nobody declared it, a CA path that breaks when the tree is installed
elsewhere, a hosts.toml without a ``[host]`` table (containerd 1.6 ignores it), capabilities
containerd 1.x rejects, and kind's recipe pointing pods at an address nodes cannot pull from.
"""

from __future__ import annotations

import tomllib
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from airlock.images.policy import ImagePolicy, MirrorRule, RegistryOverride, RegistryTrust, resolve
from airlock.nodes.containerd import basic_auth, config_snippet, hosts_tree, login_paths
from airlock.nodes.kind import kind_config, local_registry_configmap
from airlock.nodes.plan import node_plan
from airlock.nodes.registries_conf import certs_files, registries_conf
from airlock.nodes.settings import KIND_NODE_IMAGE, KindSettings, NodesSettings
from tests.support.pki import make_ca

CA = make_ca().certificate_pem
FORBIDDEN = NodesSettings(upstream="forbidden")
FALLBACK = NodesSettings(upstream="fallback")


def policy(*rules: MirrorRule, trust: dict[str, RegistryTrust] | None = None) -> ImagePolicy:
    return ImagePolicy(mirrors=rules, registries=trust or {})


def toml(files: dict[str, str], path: str) -> dict[str, Any]:
    return tomllib.loads(files[path])


# -- containerd: each layout as a host URL ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "url", "override_path"),
    [
        (MirrorRule(source="docker.io", to="mirror.corp", layout="flatten"), "https://mirror.corp", False),
        (
            MirrorRule(source="docker.io", to="mirror.corp/cache", layout="nest"),
            "https://mirror.corp/v2/cache/docker.io",
            True,
        ),
        (
            MirrorRule(source="registry.corp:8443", to="mirror.corp", layout="nest"),
            "https://mirror.corp/v2/registry.corp_8443",
            True,
        ),
        (
            MirrorRule(source="ghcr.io", to="mirror.corp/ghcr", layout="replace"),
            "https://mirror.corp/v2/ghcr",
            True,
        ),
    ],
)
def test_every_layout_becomes_a_host_url_with_the_policys_prefix(rule, url, override_path):
    files = hosts_tree(node_plan(policy(rule), FALLBACK), {})
    upstream = rule.source
    document = toml(files, f"{upstream}/hosts.toml")
    assert list(document["host"]) == [url]
    assert document["host"][url].get("override_path", False) is override_path
    assert document["host"][url]["capabilities"] == ["pull", "resolve"]
    assert "server" not in document  # fallback: containerd's default server, the upstream itself
    # the prefix is exactly where the policy puts an image of that registry
    final = resolve(f"{upstream}/team/app:v1", policy(rule)).final
    path = url.removeprefix("https://mirror.corp").removeprefix("/v2").strip("/")
    assert str(final) == f"mirror.corp/{path + '/' if path else ''}team/app:v1"


def test_forbidden_upstream_makes_the_mirror_the_server():
    rule = MirrorRule(source="docker.io", to="mirror.corp/cache", layout="nest")
    document = toml(hosts_tree(node_plan(policy(rule), FORBIDDEN), {}), "docker.io/hosts.toml")
    assert document["server"] == "https://mirror.corp/v2/cache/docker.io"
    assert document["override_path"] is True
    # containerd 1.6.20 ignores a hosts.toml without a [host] table (measured): there is one
    assert list(document["host"]) == ["https://mirror.corp/v2/cache/docker.io"]


def test_ca_files_come_first_and_are_named_relative_to_the_hosts_file():
    rule = MirrorRule(source="docker.io", to="mirror.corp:5443", layout="flatten")
    files = hosts_tree(
        node_plan(policy(rule, trust={"mirror.corp:5443": RegistryTrust(ca_bundle=CA)}), FORBIDDEN),
        {"mirror.corp:5443": CA},
    )
    assert next(iter(files)) == "mirror.corp:5443/ca.crt" and files["mirror.corp:5443/ca.crt"] == CA
    upstream = toml(files, "docker.io/hosts.toml")
    assert upstream["host"]["https://mirror.corp:5443"]["ca"] == "../mirror.corp:5443/ca.crt"
    own = toml(files, "mirror.corp:5443/hosts.toml")
    assert own["server"] == "https://mirror.corp:5443" and own["ca"] == "ca.crt"


def test_plain_http_only_where_declared_and_never_skip_verify():
    rule = MirrorRule(source="docker.io", to="mirror.corp:5000", layout="flatten")
    plain = hosts_tree(
        node_plan(policy(rule, trust={"mirror.corp:5000": RegistryTrust(insecure=True)}), FORBIDDEN), {}
    )
    assert toml(plain, "docker.io/hosts.toml")["server"] == "http://mirror.corp:5000"
    tls = hosts_tree(node_plan(policy(rule), FORBIDDEN), {})
    assert toml(tls, "docker.io/hosts.toml")["server"] == "https://mirror.corp:5000"
    assert not any("skip_verify" in text for text in [*plain.values(), *tls.values()])
    assert "http://" not in "".join(tls.values())


def test_no_capability_containerd_1_rejects():
    rule = MirrorRule(source="docker.io", to="mirror.corp", layout="flatten")
    plan = node_plan(policy(rule, trust={"mirror.corp": RegistryTrust(ca_bundle=CA)}), FORBIDDEN)
    files = hosts_tree(plan, {"mirror.corp": CA})
    tables = []
    for path in [path for path in files if path.endswith("/hosts.toml")]:
        document = toml(files, path)
        tables += [document, *document["host"].values()]
    assert len(tables) == 4
    for table in tables:
        assert set(table["capabilities"]) <= {"pull", "resolve", "push"}  # 1.x: "unknown capability"
        assert "dial_timeout" not in table  # >= 2.1 only


# -- what containerd cannot express --------------------------------------------------------------------
def test_a_sub_path_rule_that_agrees_with_its_registry_rule_is_carried():
    whole = MirrorRule(source="docker.io", to="mirror.corp", layout="nest")
    part = MirrorRule(source="docker.io/bitnami", to="mirror.corp", layout="nest")
    plan = node_plan(policy(whole, part), FORBIDDEN)
    assert plan.containerd_problems == ()
    (mirror,) = plan.hosts
    assert mirror.rules == (whole.describe(0), part.describe(1))


def test_a_sub_path_rule_elsewhere_is_refused_for_containerd_with_the_fix():
    part = MirrorRule(source="docker.io/bitnami", to="mirror.corp/b", layout="replace")
    plan = node_plan(policy(part), FORBIDDEN)
    (problem,) = plan.containerd_problems
    assert problem.path == ("images", "mirrors", 0)
    assert "containerd configures whole registries" in problem.reason
    assert "docker.io itself" in problem.reason
    assert "source: docker.io" in problem.fix and "exclude: [docker.io/bitnami]" in problem.fix
    with pytest.raises(ValueError, match="containerd cannot carry out this policy"):
        hosts_tree(plan, {})
    # registries.conf expresses it: the prefix-rooted namespace is remapped
    document = tomllib.loads(registries_conf(plan))
    assert document["registry"] == [{"prefix": "docker.io/bitnami", "location": "mirror.corp/b"}]


def test_excluding_the_rule_removes_the_problem():
    part = MirrorRule(source="docker.io/bitnami", to="mirror.corp/b", layout="replace")
    plan = node_plan(policy(part), NodesSettings(exclude=("docker.io/bitnami",)))
    assert plan.containerd_problems == () and plan.hosts == () and plan.prefixes == ()


def test_a_prefix_kept_upstream_needs_nothing_unless_its_registry_is_mirrored():
    keep = MirrorRule(
        source="xpkg.crossplane.io/crossplane-contrib",
        to="xpkg.crossplane.io/crossplane-contrib",
        layout="replace",
    )
    alone = node_plan(policy(keep), FORBIDDEN)
    assert alone.hosts == () and alone.prefixes == () and alone.containerd_problems == ()
    whole = MirrorRule(source="xpkg.crossplane.io", to="xpkg-cache.corp", layout="flatten")
    (problem,) = node_plan(policy(whole, keep), FORBIDDEN).containerd_problems
    assert problem.path == ("images", "mirrors", 1)


def test_the_registry_override_is_not_a_runtime_mirror():
    plan = node_plan(ImagePolicy(registry=RegistryOverride(to="registry.corp")), FORBIDDEN)
    assert plan.hosts == () and plan.prefixes == ()


# -- registries.conf -----------------------------------------------------------------------------------
def test_registries_conf_forbidden_points_the_prefix_at_the_mirror():
    rule = MirrorRule(source="docker.io", to="mirror.corp/cache", layout="nest")
    document = tomllib.loads(registries_conf(node_plan(policy(rule), FORBIDDEN)))
    assert document["registry"] == [{"prefix": "docker.io", "location": "mirror.corp/cache/docker.io"}]


def test_registries_conf_fallback_keeps_the_upstream_behind_a_mirror():
    rule = MirrorRule(source="docker.io/library", to="mirror.corp:5000", layout="flatten")
    text = registries_conf(
        node_plan(policy(rule, trust={"mirror.corp:5000": RegistryTrust(insecure=True)}), FALLBACK)
    )
    assert "[[registry]]" in text and "[[registry.mirror]]" in text
    (entry, own) = tomllib.loads(text)["registry"]
    assert entry == {
        "prefix": "docker.io/library",
        "location": "docker.io/library",
        "mirror": [{"location": "mirror.corp:5000/library", "insecure": True}],
    }
    assert own == {"prefix": "mirror.corp:5000", "location": "mirror.corp:5000", "insecure": True}


def test_registries_conf_never_says_insecure_for_a_tls_mirror():
    rule = MirrorRule(source="docker.io", to="mirror.corp", layout="flatten")
    plan = node_plan(policy(rule, trust={"mirror.corp": RegistryTrust(ca_bundle=CA)}), FALLBACK)
    assert "insecure" not in registries_conf(plan)
    assert certs_files(plan, {"mirror.corp": CA}) == {"mirror.corp/ca.crt": CA}


# -- node addresses (kind) -----------------------------------------------------------------------------
def test_kinds_local_registry_is_reached_by_its_container_name():
    local = policy(trust={"localhost:5001": RegistryTrust(insecure=True)})
    plan = node_plan(local, FORBIDDEN, addresses={"localhost:5001": "kind-registry:5000"})
    files = hosts_tree(plan, {})
    document = toml(files, "localhost:5001/hosts.toml")
    assert document["server"] == "http://kind-registry:5000"
    assert list(document["host"]) == ["http://kind-registry:5000"]
    assert plan.hosts_to_trust == {"localhost:5001"}
    conf = tomllib.loads(registries_conf(plan))
    assert conf["registry"] == [
        {"prefix": "localhost:5001", "location": "kind-registry:5000", "insecure": True}
    ]


def test_platform_ca_hosts_need_their_ca_supplied():
    plan = node_plan(
        ImagePolicy(), FORBIDDEN, platform_ca_hosts={"registry.corp": "airlock:registry.tls (generated CA)"}
    )
    assert plan.ca_sources == {"registry.corp": "airlock:registry.tls (generated CA)"}
    with pytest.raises(
        ValueError, match=r"no CA was supplied for registry.corp; it comes from airlock:registry.tls"
    ):
        hosts_tree(plan, {})
    assert hosts_tree(plan, {"registry.corp": CA})["registry.corp/ca.crt"] == CA


# -- containerd config snippets ------------------------------------------------------------------------
def test_config_snippets_use_each_versions_plugin():
    one = tomllib.loads(config_snippet("1", "/etc/containerd/certs.d"))
    assert one["version"] == 2
    assert one["plugins"]["io.containerd.grpc.v1.cri"]["registry"] == {
        "config_path": "/etc/containerd/certs.d"
    }
    two = tomllib.loads(config_snippet("2", "/etc/containerd/certs.d"))
    assert two["version"] == 3
    assert two["plugins"]["io.containerd.cri.v1.images"]["registry"] == {
        "config_path": "/etc/containerd/certs.d"
    }


# -- kind ----------------------------------------------------------------------------------------------
# The fields of kind v0.32.0 pkg/apis/config/v1alpha4/types.go that airlock writes, closed as kind's
# strict decoder is (an unknown field fails `kind create cluster`).
MOUNT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "containerPath": {"type": "string"},
        "hostPath": {"type": "string"},
        "readOnly": {"type": "boolean"},
        "selinuxRelabel": {"type": "boolean"},
        "propagation": {"enum": ["None", "HostToContainer", "Bidirectional"]},
    },
}
KIND_CLUSTER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "apiVersion"],
    "properties": {
        "kind": {"const": "Cluster"},
        "apiVersion": {"const": "kind.x-k8s.io/v1alpha4"},
        "name": {"type": "string"},
        "nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": ["control-plane", "worker"]},
                    "image": {"type": "string"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extraMounts": {"type": "array", "items": MOUNT},
                    "extraPortMappings": {"type": "array"},
                    "gpus": {"type": "string"},
                    "kubeadmConfigPatches": {"type": "array", "items": {"type": "string"}},
                    "kubeadmConfigPatchesJSON6902": {"type": "array"},
                },
            },
        },
        "networking": {"type": "object"},
        "featureGates": {"type": "object"},
        "runtimeConfig": {"type": "object"},
        "kubeadmConfigPatches": {"type": "array", "items": {"type": "string"}},
        "kubeadmConfigPatchesJSON6902": {"type": "array"},
        "containerdConfigPatches": {"type": "array", "items": {"type": "string"}},
        "containerdConfigPatchesJSON6902": {"type": "array", "items": {"type": "string"}},
    },
}


def test_kind_config_has_only_kind_fields_and_mounts_the_tree_on_every_node():
    config = kind_config(KindSettings(workers=2, cluster_name="dev"), "/home/me/nodes/certs.d")
    jsonschema.validate(yaml.safe_load(yaml.safe_dump(config)), KIND_CLUSTER)
    assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker", "worker"]
    for node in config["nodes"]:
        assert node["image"] == KIND_NODE_IMAGE and "@sha256:" in node["image"]
        assert node["extraMounts"] == [
            {
                "hostPath": "/home/me/nodes/certs.d",
                "containerPath": "/etc/containerd/certs.d",
                "readOnly": True,
            }
        ]
    (patch,) = config["containerdConfigPatches"]
    # merged into kind's version-2 config.toml; containerd 2.x migrates the grpc.v1.cri key
    assert tomllib.loads(patch)["plugins"]["io.containerd.grpc.v1.cri"]["registry"] == {
        "config_path": "/etc/containerd/certs.d"
    }


def test_kep_1755_configmap_tells_pods_the_name_nodes_map():
    configmap = local_registry_configmap("localhost:5001", "kind-registry:5000")
    assert configmap["metadata"] == {"name": "local-registry-hosting", "namespace": "kube-public"}
    assert yaml.safe_load(configmap["data"]["localRegistryHosting.v1"]) == {
        "host": "localhost:5001",
        "hostFromContainerRuntime": "localhost:5001",
        "hostFromClusterNetwork": "kind-registry:5000",
        "help": "https://kind.sigs.k8s.io/docs/user/local-registry/",
    }


# -- found in review: what the nodes would do differently from the policy ---------------------------
def test_fallback_keeps_the_upstreams_own_ca_and_plain_http():
    rule = MirrorRule(source="registry.corp:8443", to="cache.corp", layout="nest")
    with_ca = policy(rule, trust={"registry.corp:8443": RegistryTrust(ca_bundle=CA)})
    files = hosts_tree(node_plan(with_ca, FALLBACK), {"registry.corp:8443": CA})
    document = toml(files, "registry.corp:8443/hosts.toml")
    assert document["server"] == "https://registry.corp:8443" and document["ca"] == "ca.crt"
    assert list(document["host"]) == ["https://cache.corp/v2/registry.corp_8443"]
    assert files["registry.corp:8443/ca.crt"] == CA
    plain = policy(rule, trust={"registry.corp:8443": RegistryTrust(insecure=True)})
    assert toml(hosts_tree(node_plan(plain, FALLBACK), {}), "registry.corp:8443/hosts.toml")["server"] == (
        "http://registry.corp:8443"
    )
    (entry,) = tomllib.loads(registries_conf(node_plan(plain, FALLBACK)))["registry"]
    assert entry["location"] == "registry.corp:8443" and entry["insecure"] is True


def test_registries_conf_keeps_a_prefix_the_policy_keeps_under_a_relocated_registry():
    whole = MirrorRule(source="xpkg.crossplane.io", to="cache.corp", layout="flatten")
    keep = MirrorRule(
        source="xpkg.crossplane.io/crossplane-contrib",
        to="xpkg.crossplane.io/crossplane-contrib",
        layout="replace",
    )
    plan = node_plan(policy(whole, keep), FORBIDDEN)
    assert plan.kept == ("xpkg.crossplane.io/crossplane-contrib",)
    entries = tomllib.loads(registries_conf(plan))["registry"]
    assert {
        "prefix": "xpkg.crossplane.io/crossplane-contrib",
        "location": "xpkg.crossplane.io/crossplane-contrib",
    } in entries


@pytest.mark.parametrize(
    "rules",
    [
        (MirrorRule(source="registry.corp", to="registry.corp/cache", layout="replace"),),
        (
            MirrorRule(source="docker.io", to="harbor.corp/hub", layout="replace"),
            MirrorRule(source="harbor.corp", to="dr-harbor.corp", layout="flatten"),
        ),
    ],
    ids=["self-target", "chain"],
)
def test_a_destination_another_rule_relocates_is_refused_for_every_runtime(rules):
    plan = node_plan(policy(*rules), FORBIDDEN)
    (problem,) = plan.problems
    assert problem.path == ("images", "mirrors", 0)
    assert "a pod's final reference would be relocated again" in problem.reason
    with pytest.raises(ValueError, match="no runtime can carry out this policy"):
        registries_conf(plan)
    with pytest.raises(ValueError, match="containerd cannot carry out this policy"):
        hosts_tree(plan, {})


def test_docker_io_as_a_mirror_is_refused_for_containerd():
    plan = node_plan(
        policy(MirrorRule(source="quay.io", to="docker.io/quaymirror", layout="replace")), FORBIDDEN
    )
    (problem,) = plan.containerd_problems
    assert "registry-1.docker.io only as an upstream" in problem.reason


def test_a_mirror_that_needs_a_login_gets_the_header_only_where_given():
    rule = MirrorRule(source="docker.io", to="cache.corp", layout="flatten")
    plan = node_plan(policy(rule), FALLBACK, login_hosts={"cache.corp"})
    assert plan.login_hosts == {"cache.corp"}
    assert login_paths(plan) == ["docker.io/hosts.toml", "cache.corp/hosts.toml"]
    without = hosts_tree(plan, {})
    assert "header" not in toml(without, "docker.io/hosts.toml")["host"]["https://cache.corp"]
    auth = basic_auth("robot", "pw")
    assert auth == "Basic cm9ib3Q6cHc="
    with_login = hosts_tree(plan, {}, {"cache.corp": auth})
    assert toml(with_login, "docker.io/hosts.toml")["host"]["https://cache.corp"]["header"] == {
        "Authorization": auth
    }
    assert toml(with_login, "cache.corp/hosts.toml")["header"] == {"Authorization": auth}


def test_a_private_key_is_not_a_ca_bundle():
    from airlock.images.policy import check_pem_bundle

    key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ValueError, match="holds a PRIVATE KEY block besides certificates"):
        check_pem_bundle(CA + key)
    assert check_pem_bundle(CA) == CA


def test_kind_config_has_no_yaml_aliases():
    from airlock.yaml_io import dump_document

    text = dump_document(kind_config(KindSettings(workers=3), "/x/certs.d"))
    assert "&id" not in text and "*id" not in text


# -- the node mapping is the policy's mapping -------------------------------------------------------------
SOURCES = ["a.io", "a.io/x", "a.io/x/y", "b.io:5000", "b.io:5000/x"]
TARGETS = ["m.io", "m.io/p", "n.io:8443", "n.io:8443/q/r"]
REFERENCES = ["a.io/x/img:1", "a.io/z:1", "a.io/x/y/img:1", "b.io:5000/x/k:1", "b.io:5000/k:1", "c.io/k:1"]


def _containerd_maps(plan, reference: str) -> str:
    domain, _, rest = reference.partition("/")
    for mirror in plan.hosts:
        if mirror.upstream == domain:
            return f"{mirror.mirror.host}/{mirror.path + '/' if mirror.path else ''}{rest}"
    return reference


def _registries_conf_maps(plan, reference: str) -> str:
    name = reference.rpartition(":")[0]
    candidates = [(p.prefix, p.location) for p in plan.prefixes] + [(k, k) for k in plan.kept]
    matching = [
        (prefix, location)
        for prefix, location in candidates
        if name == prefix or name.startswith(prefix + "/")
    ]
    if not matching:
        return reference
    prefix, location = max(matching, key=lambda pair: len(pair[0]))
    return location + reference[len(prefix) :]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(SOURCES),
            st.sampled_from(TARGETS),
            st.sampled_from(["nest", "flatten", "replace"]),
        ),
        max_size=4,
        unique_by=lambda rule: rule[0],
    )
)
def test_when_the_plan_reports_nothing_the_nodes_pull_exactly_the_final_reference(rules):
    image_policy = ImagePolicy(mirrors=tuple(MirrorRule(source=s, to=t, layout=lay) for s, t, lay in rules))
    plan = node_plan(image_policy, FORBIDDEN)
    assume(not plan.problems)
    for reference in REFERENCES:
        final = str(resolve(reference, image_policy).final)
        assert _registries_conf_maps(plan, reference) == final
        if not plan.containerd_problems:
            assert _containerd_maps(plan, reference) == final
