"""One decision, each consumer's own fields. No rule is decided here; only translated.

The formats every consumer shares live here; each room keeps its own next to its values
(``vcluster/spec.py``: ``registry_repository_tag``; ``gateway/spec.py``:
``envoy_proxy_container``; ``crossplane/images.py``: ``crossplane_image``).

- full string: Kubernetes ``image:``, Envoy Gateway ``global.images.*.image``, EnvoyProxy
  ``container.image``, containerd/podman pulls.
- ``{registry, repository, tag}``: vcluster. Its chart joins ``registry/repository:tag``
  (v0.36.1 ``chart/templates/_helper.tpl``, ``vcluster.image``) and has no digest field, so a
  digest travels inside the tag as ``<tag>@<digest>``; the joined string is then a valid
  tag-and-digest reference and runtimes pull by the digest. A digest without a tag cannot be
  expressed (the template always writes ``:``) and is refused.
- Envoy Gateway ``image`` XOR ``imageRepository``: ``imageRepository`` has no tag or digest
  (the controller appends its built-in tag), so it is only written on request and when that
  is exact.
- Crossplane ``image.repository`` + ``image.tag`` or, with a digest, the whole reference in
  ``repository`` and ``ignoreTag: true`` (the chart then uses the repository as is).
- pull secrets: objects ``[{"name": …}]`` (vcluster, Envoy Gateway, Pod specs) or plain names
  (Crossplane chart ``imagePullSecrets``, ``packagePullSecrets`` take objects again).
"""

from __future__ import annotations

from collections.abc import Iterable

from .policy import ResolvedImage

__all__ = ["full", "pull_secret_names", "pull_secret_objects"]


def full(image: ResolvedImage) -> str:
    return str(image.final)


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
