"""What ``__main__.py`` needs from the Pulumi runtime: the raw config map and secret inputs.

The only module besides the components that touches Pulumi's config; ``airlock.config``
stays pure so the CLI and tests can validate stacks without an engine.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from .config import ConfigError, LoadedConfig, load_stack_config
from .gates import DeployGateError, deploy_problems

__all__ = ["load", "raw_config"]


def raw_config() -> tuple[dict[str, str], set[str]]:
    """Every config value the engine passed in, and which of them are secrets."""
    raw: dict[str, str] = {str(k): str(v) for k, v in runtime_config.get_config_env().items()}
    raw.update({str(k): str(v) for k, v in runtime_config.CONFIG.get().items()})
    secrets = set(runtime_config.get_config_secret_keys_env())
    secrets.update(key for key in raw if runtime_config.is_config_secret(key))
    return raw, secrets


def load(project_dir: Path | str = ".") -> LoadedConfig:
    """Validate this stack's config (``airlock:`` keys, images.lock relative to ``project_dir``)
    and resolve its image table; a bad config ends the program cleanly, registering nothing.
    An update (not a preview) also passes the deploy gates (``airlock.gates``)."""
    raw, secrets = raw_config()
    try:
        loaded = load_stack_config(raw, secrets, stack=pulumi.get_stack(), project_dir=project_dir)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from error
    if not pulumi.runtime.is_dry_run():
        problems = deploy_problems(loaded)
        if problems:
            refused = DeployGateError(loaded.stack, problems)
            raise pulumi.RunError(str(refused)) from refused
    return loaded
