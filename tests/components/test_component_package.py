"""The component package: the committed schema, Construct as another language sends it, and the
TypeScript/YAML examples against the schema."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import esprima
import pytest
import yaml
from pulumi.output import contains_unknowns
from pulumi.runtime import rpc

from airlock.images.lock import Lockfile
from airlock.package import argtypes
from airlock.package.codegen import generate_types
from airlock.package.components import COMPONENTS
from airlock.package.provider import AirlockProvider, schema
from airlock.plan.engine import record_program
from tests.components.conftest import PROJECT_DIR, stack_values
from tests.support.construct import Secret, Unknown, construct

SCHEMA_FILE = PROJECT_DIR / "provider" / "schema.json"
EXAMPLES = PROJECT_DIR / "examples"


@pytest.fixture(scope="module")
def package_schema() -> dict[str, Any]:
    return schema()


# -- the schema is an artifact -------------------------------------------------------------


def test_committed_argument_types_are_what_the_settings_models_generate() -> None:
    assert Path(argtypes.__file__).read_text(encoding="utf-8") == generate_types().source, (
        "components/airlock/package/argtypes.py is stale: run 'make schema' and commit it"
    )


def test_committed_schema_is_what_the_analyzer_infers(package_schema: dict[str, Any]) -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == package_schema, "provider/schema.json is stale: run 'make schema' and commit it"


def test_every_component_is_in_the_schema_under_the_token_its_python_class_registers(
    package_schema: dict[str, Any],
) -> None:
    tokens = {f"airlock:index:{component.__name__}" for component in COMPONENTS}
    assert set(package_schema["resources"]) == tokens
    assert len(tokens) == 7
    for component in COMPONENTS:  # each is the Python component (the Construct tests show the token)
        python = component.__mro__[1]
        assert python.__name__ == component.__name__ and python.__module__ != component.__module__
        # the schema's outputs are the Python component's own, each declared again with a description
        declared = {name for name in python.__annotations__ if not name.startswith("_")}
        extra = {"stack_outputs", "secret_stack_outputs"} if component.__name__ == "Platform" else set()
        assert set(component.__annotations__) == declared | extra, component.__name__


def _walk_descriptions(node: Any, where: str, missing: list[str]) -> None:
    if isinstance(node, dict):
        for key in ("inputProperties", "properties"):
            for name, prop in (node.get(key) or {}).items():
                if not prop.get("description"):
                    missing.append(f"{where}.{name}")
        for key, value in node.items():
            _walk_descriptions(value, f"{where}.{key}", missing)


def test_every_property_and_type_is_described_and_nothing_is_a_union(package_schema: dict[str, Any]) -> None:
    missing: list[str] = []
    _walk_descriptions(package_schema, "schema", missing)
    assert missing == []
    for name, definition in {**package_schema["resources"], **package_schema["types"]}.items():
        assert definition.get("description"), name
    text = json.dumps(package_schema)
    assert "oneOf" not in text and "``" not in text  # no unions; descriptions are Markdown


def test_counts_of_inputs_and_outputs(package_schema: dict[str, Any]) -> None:
    counts = {
        token.split(":")[-1]: (len(spec["inputProperties"]), len(spec["properties"]))
        for token, spec in package_schema["resources"].items()
    }
    assert counts == {
        "ImageConfig": (3, 4),
        "PrivateRegistry": (2, 7),
        "VirtualCluster": (4, 3),
        "Gateway": (2, 4),
        "Crossplane": (2, 3),
        "NodeRegistryConfig": (2, 3),
        "Platform": (13, 6),
    }
    assert package_schema["resources"]["airlock:index:VirtualCluster"]["requiredInputs"] == ["tenant"]
    secret = {
        f"{token.split(':')[-1]}.{name}"
        for token, spec in package_schema["resources"].items()
        for name, prop in spec["properties"].items()
        if prop.get("secret")
    }
    assert secret == {
        "PrivateRegistry.password",
        "PrivateRegistry.pullSecretPayload",
        "VirtualCluster.kubeconfig",
        "Platform.secretStackOutputs",
    }


def test_the_plugin_folder_runs_this_provider() -> None:
    plugin = yaml.safe_load((PROJECT_DIR / "provider" / "PulumiPlugin.yaml").read_text(encoding="utf-8"))
    assert plugin["runtime"]["name"] == "python"
    main = (PROJECT_DIR / "provider" / "__main__.py").read_text(encoding="utf-8")
    assert "from airlock.package.provider import main" in main
    requirements = (PROJECT_DIR / "provider" / "requirements.txt").read_text(encoding="utf-8").split()
    assert "-c" in requirements and "../constraints.txt" in requirements and ".." in requirements


# -- Construct, as another language sends it ---------------------------------------------

POLICY = {"registry": {"to": "registry.example.com"}, "pin": "off"}
IMAGES = {
    "policy": POLICY,
    "registryCredentials": {"registry.example.com": {"username": "robot", "password": Secret("s3cret-pw")}},
}


def _by_type(constructed: Any, type_token: str) -> list[Any]:
    return [resource for resource in constructed.recording.resources if resource.type == type_token]


def _secret_payload(resource: Any) -> dict[str, Any]:
    data = rpc.unwrap_rpc_secret(resource.inputs["stringData"])
    return json.loads(rpc.unwrap_rpc_secret(data[".dockerconfigjson"]))


def test_construct_image_config_resolves_and_creates_one_pull_secret_per_namespace() -> None:
    result = construct(
        "ImageConfig",
        "app-images",
        {
            "images": IMAGES,
            "workloadImages": {
                "apps/web": {"image": "nginx:1.27", "namespace": "apps"},
                "jobs/report": {"image": "ghcr.io/example/report:2.4.1", "namespace": "jobs"},
            },
            "labels": {"team": "web"},
        },
    )
    assert result.error is None
    (component,) = _by_type(result, "airlock:index:ImageConfig")
    assert component.name == "app-images"
    secrets = {
        resource.inputs["metadata"]["namespace"]: resource
        for resource in _by_type(result, "kubernetes:core/v1:Secret")
    }
    assert sorted(secrets) == ["apps", "jobs"]
    for namespace, secret in secrets.items():
        assert secret.parent == component.urn
        assert secret.inputs["type"] == "kubernetes.io/dockerconfigjson"
        assert secret.inputs["metadata"]["name"] == "airlock-pull"
        assert secret.inputs["metadata"]["labels"]["team"] == "web"
        payload = _secret_payload(secret)
        auth = base64.b64decode(payload["auths"]["registry.example.com"]["auth"]).decode()
        assert auth == "robot:s3cret-pw", namespace
    assert result.state["imageMap"] == {
        "apps/web": {"apps": "registry.example.com/docker.io/library/nginx:1.27"},
        "jobs/report": {"jobs": "registry.example.com/ghcr.io/example/report:2.4.1"},
    }
    assert result.state["pullSecrets"] == {"apps": "airlock-pull", "jobs": "airlock-pull"}
    assert {row["name"] for row in result.state["images"]} == {"apps/web", "jobs/report"}


def test_construct_virtual_cluster_owns_its_image_config_and_every_image_follows_the_policy() -> None:
    result = construct("VirtualCluster", "team-a", {"images": IMAGES, "tenant": {"name": "team-a"}})
    assert result.error is None
    (cluster,) = _by_type(result, "airlock:index:VirtualCluster")
    (images,) = _by_type(result, "airlock:index:ImageConfig")
    assert images.parent == cluster.urn and images.name == "team-a-images"
    (secret,) = [s for s in _by_type(result, "kubernetes:core/v1:Secret") if "stringData" in s.inputs]
    assert secret.parent == images.urn
    assert secret.inputs["metadata"]["namespace"] == "vcluster-team-a"
    (chart,) = _by_type(result, "kubernetes:helm.sh/v4:Chart")
    assert chart.parent == cluster.urn
    assert chart.inputs["namespace"] == "vcluster-team-a"
    assert secret.urn in chart.dependencies  # the chart waits for its pull secret
    assert {child.type for child in result.recording.resources if child.parent == cluster.urn} == {
        "airlock:index:ImageConfig",
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:core/v1:Secret",  # the kubeconfig Secret, read
        "pulumi:providers:kubernetes",
    }
    text = json.dumps(chart.inputs["values"])
    references = set(re.findall(r'"((?:[a-z0-9.-]+/)+[a-z0-9._-]+:[A-Za-z0-9._-]+)"', text))
    assert references and all(ref.startswith("registry.example.com/") for ref in references), references
    proxy = "registry.example.com/ghcr.io/loft-sh/vcluster-pro:0.36.1"
    assert result.state["backgroundProxyImage"] == proxy
    assert proxy in result.state["connectCommand"]["flag"]
    assert "kubeconfig" in result.secret_outputs


@pytest.mark.parametrize(
    ("component", "inputs", "expected"),
    [
        (
            "VirtualCluster",
            {"images": {"policy": {"pin": "sometimes"}}, "tenant": {"name": "Team_A"}},
            {
                "images.policy.pin": "'sometimes'",
                "tenant.name": "a tenant name must be a DNS-1123 label",
            },
        ),
        (
            "VirtualCluster",
            {"tenant": {"name": "team-a"}, "kubernetesVersion": "v1.20.0"},
            {"kubernetesVersion": "kubernetesVersion must be v1.MINOR.PATCH"},
        ),
        (
            "ImageConfig",
            {
                "images": {
                    "policy": {"registry": {"to": "Bad Host"}},
                    "lock": {"docker.io/library/nginx:1.27": "md5:x"},
                },
                "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps"}},
            },
            {'images.lock["docker.io/library/nginx:1.27"]': "md5:x"},
        ),
        (
            "ImageConfig",
            {
                "images": {"policy": {"registry": {"to": "Bad Host"}}},
                "workloadImages": {"web": {"image": "nginx:1.27", "namespace": "Apps"}},
            },
            {
                "images.policy.registry.to": "'Bad Host'",
                "workloadImages.web.namespace": "'Apps'",
            },
        ),
        (
            "ImageConfig",
            {
                "images": {
                    "registryCredentials": {
                        "registry.example.com": {"username": "robot", "password": Secret("hunter2-secret")}
                    },
                    "policy": {"registry": {"to": "registry.example.com", "layout": "sideways"}},
                }
            },
            {"images.policy.registry.layout": "'sideways'"},
        ),
        (
            "Gateway",
            {
                "settings": {
                    "namespace": "envoy-gateway-system",
                    "classes": [{"name": "eg"}],
                    "tenant": "team-a",
                }
            },
            {"settings.tenant": "Platform"},
        ),
        (
            "NodeRegistryConfig",
            {"settings": {"daemonSet": {"enabled": False}}},
            {"settings.daemonSet.enabled": "set it to true"},
        ),
        (
            "Crossplane",
            {
                "settings": {
                    "packages": [{"kind": "Provider", "name": "p", "package": "xpkg.crossplane.io/p"}]
                }
            },
            {"settings.packages[0].package": "a package needs a tag or a digest"},
        ),
        (
            "PrivateRegistry",
            {"settings": {"mode": "in-cluster", "host": "registry.example.com", "storage": {"type": "tape"}}},
            {"settings.storage.type": "'tape'"},
        ),
        (
            "Platform",
            {
                "images": {"pin": "sometimes"},
                "vcluster": {"tenants": [{"name": "x", "sync": {"toHost": {"pods": True}}}]},
            },
            {"images.pin": "'sometimes'", "vcluster.tenants[0].sync.toHost": "'pods'"},
        ),
        (
            "ImageConfig",
            {"images": {"policy": {"registry": {"to": Unknown()}}}},
            {"images.policy.registry.to": "is not known yet"},
        ),
        (
            "Platform",
            {"vcluster": Unknown(), "images": Unknown()},
            {"vcluster": "is not known yet", "images": "is not known yet"},
        ),
        (
            "ImageConfig",
            {
                "images": {"policy": {"registy": {"to": "registry.example.com"}}},
                "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps", "tag": "1"}},
                "bogus": True,
            },
            {
                "bogus": "is not a property here",
                "images.policy.registy": "the properties are: mirrors, overrides, pin, pullPolicy",
                'workloadImages["apps/web"].tag': "the properties are: image, namespace",
            },
        ),
        (
            "ImageConfig",
            {
                "images": {
                    "policy": POLICY,
                    "registryCredentials": {
                        "registry.example.com": {"username": "robot", "password": "hunter2-secret"}
                    },
                },
                "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps"}},
            },
            {"images.registryCredentials": "holds passwords but is not a secret; pass it as a secret"},
        ),
        (
            "ImageConfig",
            {"workloadImages": {"apps/web": {"image": "nginx:1.27"}, "my_jobs/x": {"image": "y:1"}}},
            {
                'workloadImages["apps/web"].namespace': "is required",
                'workloadImages["my_jobs/x"].namespace': "is required",  # a key as the caller wrote it
            },
        ),
        (
            "Platform",
            {"namespaces": {"apps": {}}, "crossplane": {"namespace": "xp"}},
            {"crossplane.namespace": "add it: namespaces.xp: {}"},
        ),
    ],
)
def test_bad_inputs_return_field_named_errors_and_register_nothing(
    component: str, inputs: dict[str, Any], expected: dict[str, str]
) -> None:
    from pulumi.errors import InputPropertiesError

    result = construct(component, "bad", inputs)
    assert isinstance(result.error, InputPropertiesError), repr(result.error)
    reported = {error["property_path"]: error["reason"] for error in result.error.errors or []}
    for path, words in expected.items():
        assert path in reported, (path, reported)
        assert words in reported[path], (path, reported[path])
    assert result.status_errors == reported  # what the engine gets: INVALID_ARGUMENT per property
    text = str(result.error) + json.dumps(result.error.errors)
    assert "hunter2-secret" not in text
    assert "airlock:" not in text and "pulumi config set" not in text  # the caller's terms
    assert result.recording.resources == []


def test_a_registry_password_unknown_in_a_preview_stays_an_output() -> None:
    result = construct(
        "ImageConfig",
        "app-images",
        {
            "images": {
                "policy": POLICY,
                "registryCredentials": {"registry.example.com": {"username": "robot", "password": Unknown()}},
            },
            "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps"}},
        },
        preview=True,
    )
    assert result.error is None
    (secret,) = _by_type(result, "kubernetes:core/v1:Secret")
    payload = rpc.unwrap_rpc_secret(secret.inputs["stringData"])
    assert rpc.is_rpc_secret(secret.inputs["stringData"])
    assert contains_unknowns(payload)  # computed at deploy from the password, not a placeholder
    assert result.state["pullSecrets"] == {"apps": "airlock-pull"}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_platform_through_construct_registers_what_the_python_stack_registers(stack: str) -> None:
    """A stack's config sent by another language (its secret keys as secrets) makes the same
    resources, with the same inputs, as the Python program of that stack."""
    values, secrets = stack_values(stack)
    inputs: dict[str, Any] = {}
    for key, value in values.items():
        name = key.split(":", 1)[1]
        if name in ("lockFile", "verifyReport", "allowUnmirrored"):
            continue
        inputs[name] = Secret(value) if key in secrets else value
    lock = Lockfile.load(PROJECT_DIR / str(values.get("airlock:lockFile", "images.lock")))
    inputs["lock"] = {source: entry.digest for source, entry in lock.entries.items()}
    result = construct("Platform", "airlock", inputs, stack=stack, preview=True)
    assert result.error is None, result.error
    python = {
        (r.type, r.name): r
        for r in record_program(PROJECT_DIR, stack).resources
        if r.type != "pulumi:pulumi:Stack"
    }
    package = {(r.type, r.name): r for r in result.recording.resources}
    assert sorted(package) == sorted(python)
    assert [key for key in python if python[key].inputs != package[key].inputs] == []
    assert result.state["stackOutputs"]["environment"] == stack
    assert result.secret_outputs == {"secretStackOutputs"}


# -- the examples use only what the schema has ---------------------------------------------


class SchemaChecker:
    def __init__(self, package_schema: dict[str, Any]) -> None:
        self.schema = package_schema
        self.problems: list[str] = []
        self.checked = 0

    def _type(self, ref: str) -> dict[str, Any] | None:
        if ref.startswith("#/types/"):
            return self.schema["types"][ref[len("#/types/") :]]
        return None  # pulumi.json#/Any

    def value(self, node: Any, prop: dict[str, Any], where: str) -> None:
        """``node``: a plain value (YAML) or an esprima expression (TypeScript)."""
        if "$ref" in prop:
            definition = self._type(prop["$ref"])
            if definition is not None:
                self.object(node, definition.get("properties", {}), definition.get("required", []), where)
            return
        if prop.get("type") == "array" and "items" in prop:
            for index, item in enumerate(self.items(node)):
                self.value(item, prop["items"], f"{where}[{index}]")
        elif prop.get("type") == "object" and "additionalProperties" in prop:
            for key, item in self.entries(node):
                self.value(item, prop["additionalProperties"], f"{where}[{key!r}]")

    def object(self, node: Any, properties: dict[str, Any], required: list[str], where: str) -> None:
        entries = list(self.entries(node))
        if entries is None:
            return
        for key, item in entries:
            self.checked += 1
            if key not in properties:
                self.problems.append(
                    f"{where}.{key}: not in the schema (known: {', '.join(sorted(properties))})"
                )
                continue
            self.value(item, properties[key], f"{where}.{key}")
        if self.is_literal(node):
            for key in required:
                if key not in dict(entries):
                    self.problems.append(f"{where}: required {key} missing")

    # overridden per language
    def entries(self, node: Any) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def items(self, node: Any) -> list[Any]:
        raise NotImplementedError

    def is_literal(self, node: Any) -> bool:
        raise NotImplementedError


class YamlChecker(SchemaChecker):
    def entries(self, node: Any) -> list[tuple[str, Any]]:
        return list(node.items()) if isinstance(node, dict) else []

    def items(self, node: Any) -> list[Any]:
        return node if isinstance(node, list) else []

    def is_literal(self, node: Any) -> bool:
        return isinstance(node, dict)


class TypeScriptChecker(SchemaChecker):
    def __init__(self, package_schema: dict[str, Any], constants: dict[str, Any]) -> None:
        super().__init__(package_schema)
        self.constants = constants

    def resolve(self, node: Any) -> Any:
        if node is not None and node.type == "Identifier" and node.name in self.constants:
            return self.resolve(self.constants[node.name])
        return node

    def entries(self, node: Any) -> list[tuple[str, Any]]:
        node = self.resolve(node)
        if node is None or node.type != "ObjectExpression":
            return []
        found = []
        for prop in node.properties:
            key = prop.key.name if prop.key.type == "Identifier" else prop.key.value
            found.append((key, prop.value))
        return found

    def items(self, node: Any) -> list[Any]:
        node = self.resolve(node)
        return list(node.elements) if node is not None and node.type == "ArrayExpression" else []

    def is_literal(self, node: Any) -> bool:
        node = self.resolve(node)
        return node is not None and node.type == "ObjectExpression"


def _nodes(node: Any) -> list[Any]:
    found = []
    if isinstance(node, list):
        for item in node:
            found += _nodes(item)
    elif hasattr(node, "type"):
        found.append(node)
        for value in vars(node).values():
            found += _nodes(value)
    return found


def test_typescript_example_uses_only_schema_properties(package_schema: dict[str, Any]) -> None:
    tree = esprima.parseModule((EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8"))
    nodes = _nodes(tree.body)
    constants = {
        declaration.id.name: declaration.init
        for node in nodes
        if node.type == "VariableDeclaration"
        for declaration in node.declarations
        if declaration.id.type == "Identifier"
    }
    checker = TypeScriptChecker(package_schema, constants)
    created: dict[str, str] = {}
    for node in nodes:
        callee = getattr(node, "callee", None)
        if (
            node.type == "NewExpression"
            and callee.type == "MemberExpression"
            and callee.object.name == "airlock"
        ):
            token = f"airlock:index:{callee.property.name}"
            assert token in package_schema["resources"], token
            spec = package_schema["resources"][token]
            checker.object(node.arguments[1], spec["inputProperties"], spec.get("requiredInputs", []), token)
            created[token] = token
    for name, init in constants.items():  # outputs read: <variable>.<output>
        callee = getattr(init, "callee", None)
        if (
            init is not None
            and init.type == "NewExpression"
            and getattr(callee.object, "name", None) == "airlock"
        ):
            token = f"airlock:index:{init.callee.property.name}"
            for node in nodes:
                if node.type == "MemberExpression" and getattr(node.object, "name", None) == name:
                    checker.checked += 1
                    if node.property.name not in package_schema["resources"][token]["properties"]:
                        checker.problems.append(f"{name}.{node.property.name}: not an output of {token}")
    assert checker.problems == []
    assert set(created) == {"airlock:index:ImageConfig", "airlock:index:VirtualCluster"}
    assert checker.checked >= 15


def test_yaml_example_uses_only_schema_properties(package_schema: dict[str, Any]) -> None:
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    checker = YamlChecker(package_schema)
    types = {}
    for name, resource in program["resources"].items():
        if not resource["type"].startswith("airlock:"):
            continue
        spec = package_schema["resources"][resource["type"]]
        types[name] = resource["type"]
        checker.object(
            resource.get("properties", {}), spec["inputProperties"], spec.get("requiredInputs", []), name
        )
    for output in program["outputs"].values():
        for resource, prop in re.findall(r"\$\{(\w+)\.(\w+)", str(output)):
            checker.checked += 1
            if prop not in package_schema["resources"][types[resource]]["properties"]:
                checker.problems.append(f"{resource}.{prop}: not an output")
    assert checker.problems == []
    assert set(types.values()) == {"airlock:index:Platform", "airlock:index:ImageConfig"}
    assert checker.checked >= 20
    assert program["packages"]["airlock"].endswith("/provider@v" + AirlockProvider().version)


def test_an_sdk_without_output_values_sends_a_nested_secret_as_a_whole_secret_input() -> None:
    """Older SDKs lift a nested secret to its top-level input: the SDK's mapping would turn
    that Output into an empty object; the provider reads it, and keeps the input secret."""
    inputs = {"images": IMAGES, "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps"}}}
    result = construct("ImageConfig", "app-images", inputs, output_values=False)
    assert result.error is None
    (secret,) = _by_type(result, "kubernetes:core/v1:Secret")
    auth = _secret_payload(secret)["auths"]["registry.example.com"]["auth"]
    assert base64.b64decode(auth).decode() == "robot:s3cret-pw"
    assert result.state["imageMap"]["apps/web"]["apps"].startswith("registry.example.com/")
    bad = {"images": {**IMAGES, "policy": {"registry": {"to": "registry.example.com", "layout": "sideways"}}}}
    refused = construct("ImageConfig", "app-images", bad, output_values=False)
    reasons = json.dumps(refused.error.errors)  # type: ignore[union-attr]
    assert "images.policy.registry.layout" in reasons and "s3cret-pw" not in reasons


@pytest.mark.parametrize(
    ("component", "settings", "children", "outputs"),
    [
        (
            "PrivateRegistry",
            {"mode": "in-cluster", "host": "cr.internal.example"},
            {
                "kubernetes:apps/v1:Deployment",
                "kubernetes:core/v1:Service",
                "tls:index/privateKey:PrivateKey",
            },
            {"endpoint": "cr.internal.example"},
        ),
        (
            "Gateway",
            {
                "classes": [{"name": "eg"}],
                "gateways": [
                    {
                        "name": "edge",
                        "namespace": "edge",
                        "gatewayClassName": "eg",
                        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
                    }
                ],
            },
            {"kubernetes:helm.sh/v4:Chart", "kubernetes:gateway.networking.k8s.io/v1:Gateway"},
            {
                "proxyImage": "registry.example.com/docker.io/envoyproxy/envoy:distroless-v1.39.0",
                "gateways": ["edge/edge"],
            },
        ),
        (
            "Crossplane",
            {
                "packages": [
                    {
                        "kind": "Provider",
                        "name": "provider-kubernetes",
                        "package": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0",
                    }
                ]
            },
            {"kubernetes:pkg.crossplane.io/v1:Provider", "kubernetes:pkg.crossplane.io/v1beta1:ImageConfig"},
            {
                "packages": {
                    "Provider/provider-kubernetes": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"
                }
            },
        ),
        (
            "NodeRegistryConfig",
            {"daemonSet": {"enabled": True}},
            {"kubernetes:apps/v1:DaemonSet", "kubernetes:core/v1:ConfigMap"},
            {"image": "registry.example.com/docker.io/library/busybox:1.37.0"},
        ),
    ],
)
def test_each_room_constructs_on_its_own_with_its_image_config_as_a_child(
    component: str, settings: dict[str, Any], children: set[str], outputs: dict[str, Any]
) -> None:
    result = construct(component, "room", {"images": IMAGES, "settings": settings})
    assert result.error is None, result.error
    (room,) = _by_type(result, f"airlock:index:{component}")
    (images,) = _by_type(result, "airlock:index:ImageConfig")
    assert images.parent == room.urn and images.name == "room-images"
    assert children <= {resource.type for resource in result.recording.resources}
    for key, value in outputs.items():
        assert result.state[key] == value
    if component == "PrivateRegistry":
        assert {"password", "pullSecretPayload"} <= result.secret_outputs


def test_secrets_nested_anywhere_reach_the_component_and_stay_secret() -> None:
    """``config.requireSecretObject`` for the whole policy, a login as one secret object: the
    engine sends them as output values inside plain objects; nothing is lost to the SDK's
    name mapping (which would map an object-valued Output to an empty object)."""
    inputs = {
        "images": {
            "policy": Secret(POLICY),
            "registryCredentials": {
                "registry.example.com": Secret({"username": "robot", "password": "s3cret-pw"})
            },
        },
        "workloadImages": {"apps/web": {"image": "nginx:1.27", "namespace": "apps"}},
    }
    result = construct(
        "ImageConfig",
        "app-images",
        inputs,
        depends_on=("urn:pulumi:dev::consumer::kubernetes:core/v1:Namespace::apps",),
    )
    assert result.error is None, result.error
    assert result.state["imageMap"]["apps/web"]["apps"] == "registry.example.com/docker.io/library/nginx:1.27"
    (secret,) = _by_type(result, "kubernetes:core/v1:Secret")
    auth = _secret_payload(secret)["auths"]["registry.example.com"]["auth"]
    assert base64.b64decode(auth).decode() == "robot:s3cret-pw"
    assert rpc.is_rpc_secret(secret.inputs["stringData"])
    (component,) = _by_type(result, "airlock:index:ImageConfig")
    assert (
        "urn:pulumi:dev::consumer::kubernetes:core/v1:Namespace::apps" in component.dependencies
    )  # dependsOn


def test_schema_marks_credentials_secret_so_generated_sdks_send_them_as_secrets(
    package_schema: dict[str, Any],
) -> None:
    secret_inputs = {
        f"{token.split(':')[-1]}.{name}"
        for token, definition in package_schema["types"].items()
        for name, prop in definition.get("properties", {}).items()
        if prop.get("secret")
    }
    assert secret_inputs == {"RegistryLogin.password", "RegistrySettings.password", "CacheSpec.password"}


def test_platform_takes_every_section_a_stack_has() -> None:
    from pydantic.alias_generators import to_snake

    from airlock.consumers import CONSUMERS
    from airlock.package.components import PlatformArgs

    assert {to_snake(consumer.key) for consumer in CONSUMERS} <= set(PlatformArgs.__annotations__)
