"""Construct, as another Pulumi language asks for it, served in-process by the airlock provider.

The inputs take the path a TypeScript or YAML program's inputs take: serialized to the
protobuf ``Struct`` the engine sends in a ConstructRequest (secrets and outputs of other
resources as output values), deserialized by the SDK's own provider server
(``ProviderServicer._construct_inputs``), then ``AirlockProvider.construct`` (name mapping,
the component, the state mapping) and the SDK's response serialization. Everything the
component registers is recorded by the offline plan's engine (``airlock.plan.engine.record``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyError
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import proto, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import errors_pb2, status_pb2
from pulumi.runtime.proto.resource_pb2 import RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES as OUTPUT_VALUES

from airlock.package.provider import AirlockProvider
from airlock.plan.engine import PlanError, Recording, record

__all__ = ["Constructed", "Secret", "Unknown", "construct"]


@dataclass(frozen=True)
class Secret:
    """A value the caller's program passes as a secret (``config.requireSecret(...)``)."""

    value: Any


@dataclass(frozen=True)
class Unknown:
    """An output of a resource the deployment has not created yet (unknown in a preview)."""


def _as_sent(value: Any) -> Any:
    """``inputs`` with each marker made the Output the caller's SDK would send."""
    if isinstance(value, Secret):
        return pulumi.Output.secret(value.value)
    if isinstance(value, Unknown):
        return pulumi.Output(set(), _done(None), _done(False))
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


async def _value(value: Any) -> Any:
    return value


def _done(value: Any) -> Any:
    return _value(value)


@dataclass
class Constructed:
    recording: Recording
    state: dict[str, Any] = field(default_factory=dict)
    """The component's outputs as the response carries them (camelCase, deserialized)."""
    secret_outputs: set[str] = field(default_factory=set)
    """Output names whose value travelled as a secret."""
    error: BaseException | None = None
    """What Construct raised (an InputPropertiesError for bad inputs)."""
    status_errors: dict[str, str] = field(default_factory=dict)
    """The property errors of the gRPC status the provider server answers such an error with."""
    options: pulumi.ResourceOptions | None = None


def _status_errors(
    servicer: ProviderServicer, error: InputPropertiesError | InputPropertyError
) -> dict[str, str]:
    """The servicer's INVALID_ARGUMENT status for ``error``, read back: property -> reason."""
    if isinstance(error, InputPropertiesError):
        status = servicer.create_grpc_invalid_properties_status(error.message, error.errors)
    else:
        status = servicer.create_grpc_invalid_properties_status(
            "", [{"property_path": error.property_path, "reason": error.reason}]
        )
    details = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    found: dict[str, str] = {}
    for detail in details.details:
        errors = errors_pb2.InputPropertiesError()
        detail.Unpack(errors)
        found.update({item.property_path: item.reason for item in errors.errors})
    return found


def construct(
    component: str,
    name: str,
    inputs: dict[str, Any],
    *,
    stack: str = "dev",
    preview: bool = False,
    output_values: bool = True,
    depends_on: tuple[str, ...] = (),
) -> Constructed:
    """Construct ``airlock:index:<component>`` with ``inputs`` (camelCase, plain data; a
    :class:`Secret` where the caller's language would pass a secret, :class:`Unknown` for an
    output not known yet). ``output_values``: the engine sends nested secrets and outputs as
    output values (current engines); False: as an SDK without them does (a nested secret makes
    the whole top-level input one secret)."""
    provider = AirlockProvider()
    servicer = object.__new__(ProviderServicer)
    result = Constructed(Recording(project="consumer", stack=stack))

    async def program() -> None:
        await runtime_settings._load_monitor_feature_support()
        features = runtime_settings.SETTINGS.monitor_features
        # The mock monitor declines output values (so mocks see plain inputs); a real engine
        # serializing a ConstructRequest keeps them.
        added = output_values and OUTPUT_VALUES not in features
        if added:
            features.add(OUTPUT_VALUES)
        try:
            struct = await rpc.serialize_properties(_as_sent(inputs), {}, keep_output_values=output_values)
        finally:
            if added:
                features.discard(OUTPUT_VALUES)
        request = proto.ConstructRequest(
            type=f"airlock:index:{component}", name=name, inputs=struct, dependencies=list(depends_on)
        )
        # What ProviderServicer._construct does with a request, but the monitor and config reset.
        received = await ProviderServicer._construct_inputs(request.inputs, request.inputDependencies)
        options = ProviderServicer._construct_options(request)
        result.options = options
        try:
            constructed = provider.construct(request.name, request.type, received, options)
        except (InputPropertiesError, InputPropertyError) as error:
            result.error = error
            result.status_errors = _status_errors(servicer, error)
            return
        except Exception as error:
            result.error = error
            return
        response = await servicer._construct_response(constructed)
        state = rpc.deserialize_properties(response.state, keep_unknowns=True)
        for key, value in state.items():
            if rpc.is_rpc_secret(value):
                result.secret_outputs.add(key)
            result.state[key] = rpc.unwrap_rpc_secret(value)

    try:
        result.recording = record(program, project="consumer", stack=stack, preview=preview)
    except PlanError as error:
        result.error = error.__cause__ or error
        if error.recording is not None:
            result.recording = error.recording
    return result
