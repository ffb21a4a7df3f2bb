"""Kubernetes' own naming rules, checked where stack settings feed Kubernetes objects (pure).

Each check returns the value or raises ``ValueError`` whose text reads ``<why>; <fix>``, so a
pydantic validator can return it and the config loader reports it under the field's path.
The rules are the API server's (k8s.io/apimachinery ``pkg/util/validation/validation.go``:
``IsDNS1123Label``, ``IsDNS1123Subdomain``, ``IsQualifiedName``, ``IsValidLabelValue``) and
``net.ParseCIDR`` for NetworkPolicy ``ipBlock.cidr``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

__all__ = [
    "DNS_LABEL",
    "ObjectKey",
    "dns_label",
    "dns_name",
    "dns_subdomain",
    "helm_release_name",
    "label_key",
    "label_value",
    "labels",
    "network_cidr",
    "quantity",
    "slug",
]

ObjectKey = tuple[str, str, str, str]
"""(apiVersion, kind, namespace, name) of a Kubernetes object; namespace '' if cluster-scoped."""

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?")


def dns_label(value: str, what: str = "a name") -> str:
    """A DNS-1123 label: namespaces, object names that become host names."""
    if not DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{what} must be a DNS-1123 label; use lowercase letters, digits and '-' (at most 63)"
        )
    return value


def helm_release_name(value: str) -> str:
    """A Helm release name: a DNS-1123 label of at most 53 characters (Helm refuses longer ones:
    charts append suffixes to it for object names)."""
    if len(value) > 53 or not DNS_LABEL.fullmatch(value):
        raise ValueError(
            "a Helm release name is a DNS-1123 label of at most 53 characters; use lowercase "
            "letters, digits and '-'"
        )
    return value


def dns_subdomain(value: str, what: str = "a name") -> str:
    """A DNS-1123 subdomain (most object names): labels joined by '.', at most 253 characters."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            f"{what} must be a DNS-1123 subdomain; use lowercase letters, digits, '-' and '.' (at most 253)"
        )
    return value


def dns_name(value: str, what: str = "host") -> str:
    """A host name that certificates and resolvers accept: labels of 1-63 characters, 253 in all."""
    if len(value) > 253:
        raise ValueError(f"{what} is {len(value)} characters long; a DNS name has at most 253")
    for part in value.split("."):
        if len(part) > 63:
            raise ValueError(
                f"{what} has a label of {len(part)} characters ({part[:20]}…); DNS labels have at most 63"
            )
        if not _HOST_LABEL.fullmatch(part):
            raise ValueError(f"{what} label {part!r} is not a DNS label; use letters, digits and '-'")
    return value


def label_key(key: str) -> str:
    """A label key: ``[prefix/]name``, prefix a DNS subdomain, name 1-63 of ``[-A-Za-z0-9_.]``."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise ValueError(
            f"label key {key!r}: the prefix before '/' must be a DNS subdomain (lowercase, e.g. "
            "'example.com/team')"
        )
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValueError(
            f"label key {key!r}: the name must be 1-63 characters of letters, digits, '-', '_', '.', "
            "starting and ending with a letter or digit"
        )
    return key


def label_value(key: str, value: str) -> str:
    """A label value: empty, or 1-63 of ``[-A-Za-z0-9_.]`` starting and ending alphanumerically."""
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        raise ValueError(
            f"label {key!r}: value {value!r} must be at most 63 characters of letters, digits, '-', "
            "'_', '.', starting and ending with a letter or digit"
        )
    return value


def labels(values: Mapping[str, str]) -> dict[str, str]:
    """Every key and value of a label map."""
    return {label_key(key): label_value(key, value) for key, value in values.items()}


def network_cidr(value: str) -> str:
    """An IPv4 or IPv6 CIDR in canonical form (what NetworkPolicy ``ipBlock.cidr`` takes)."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a CIDR; write an address range such as '10.0.0.0/16' or 'fd00::/64'"
        ) from None
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length; write {network.with_prefixlen!r}")
    if network.with_prefixlen != value:
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError(f"{value!r} has host bits set; write {network.with_prefixlen!r}") from None
        raise ValueError(f"{value!r} is not in canonical form; write {network.with_prefixlen!r}")
    return value


def slug(text: str) -> str:
    """``docker.io`` -> ``docker-io``: a DNS label derived from free text (at most 63)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")


# k8s.io/apimachinery pkg/api/resource quantity.go: a decimal number with a binary (Ki..Ei),
# decimal (m, k, M..E) or exponent (e3, E-2) suffix.
_QUANTITY = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?")


def quantity(value: str) -> str:
    """A Kubernetes resource quantity (``500m``, ``128Mi``, ``1.5``), or a ValueError."""
    if not _QUANTITY.fullmatch(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity; write e.g. '500m', '128Mi' or '20Gi'")
    return value
