"""One decision, each consumer's own fields. No rule is decided here; only translated.

- full string: Kubernetes ``image:``, Envoy Gateway ``global.images.*.image``, EnvoyProxy
  ``container.image``, containerd/podman pulls.
- ``{registry, repository, tag}``: vcluster. Its chart joins ``registry/repository:tag``
  (v0.36.1 ``chart/templates/_helper.tpl``, ``vcluster.image``) and has no digest field, so a
  digest travels inside the tag as ``<tag>@<digest>``; the joined string is then a valid
  tag-and-digest reference and runtimes pull by the digest. A digest without a tag cannot be
  expressed (the template always writes ``:``) and is refused.
- Envoy Gateway ``image`` XOR ``imageRepository``: ``imageRepository`` has no tag or digest
  (the controller appends its built-in tag), so it is only offered when that is exact.
- Crossplane ``image.repository`` + ``image.tag`` or, with a digest, the whole reference in
  ``repository`` and ``ignoreTag: true`` (the chart then uses the repository as is).
- pull secrets: objects ``[{"name": …}]`` (vcluster, Envoy Gateway, Pod specs) or plain names
  (Crossplane chart ``imagePullSecrets``, ``packagePullSecrets`` take objects again).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .errors import PolicyError
from .policy import ResolvedImage

__all__ = [
    "crossplane_image",
    "envoy_proxy_container",
    "full",
    "pull_secret_names",
    "pull_secret_objects",
    "registry_repository_tag",
]


def full(image: ResolvedImage) -> str:
    return str(image.final)


def registry_repository_tag(image: ResolvedImage) -> dict[str, str]:
    """vcluster's image object. A digest rides in the tag: ``0.36.1@sha256:…``."""
    final = image.final
    if final.tag is None:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            "vcluster image fields are registry/repository:tag and need a tag even with a digest",
            "give the image a tag (an override 'tag') alongside its digest",
        )
    tag = f"{final.tag}@{final.digest}" if final.digest else final.tag
    return {"registry": final.domain, "repository": final.path, "tag": tag}


def envoy_proxy_container(
    image: ResolvedImage,
    mode: Literal["image", "imageRepository"] = "image",
    *,
    controller_tag: str | None = None,
) -> dict[str, str]:
    """``EnvoyProxy.spec.provider.kubernetes.envoyDeployment.container`` image field.

    ``image`` (the default) is always exact. ``imageRepository`` only when the final reference
    has no digest and its tag equals the tag the controller would append (``controller_tag``).
    """
    if mode == "image":
        return {"image": full(image)}
    final = image.final
    if final.digest is not None or final.tag != controller_tag:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            "imageRepository carries no tag or digest; the controller would pull "
            f"'{final.name}:{controller_tag}' instead",
            "use mode 'image' (a full reference), which Envoy Gateway accepts as is",
        )
    return {"imageRepository": final.name}


def crossplane_image(image: ResolvedImage) -> dict[str, object]:
    """Crossplane chart ``image`` values: repository/tag, or a digest via ``ignoreTag``."""
    final = image.final
    values: dict[str, object] = {"pullPolicy": image.pull_policy}
    if final.digest is not None or final.tag is None:
        # ignoreTag: the chart uses repository verbatim (an empty tag would fall back to
        # v<appVersion>, which is not what the policy decided).
        values.update(repository=str(final), ignoreTag=True)
    else:
        values.update(repository=final.name, tag=final.tag, ignoreTag=False)
    return values


def pull_secret_objects(names: Iterable[str]) -> list[dict[str, str]]:
    return [{"name": name} for name in _unique(names)]


def pull_secret_names(names: Iterable[str]) -> list[str]:
    return _unique(names)


def _unique(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen
