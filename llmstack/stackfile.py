"""Read a `Pulumi.<stack>.yaml` the way the Pulumi CLI would, without decrypting secrets."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmstack.errors import UsageError
from llmstack.offline import SECRET_PLACEHOLDER
from stacks.config import NAMESPACE, ConfigError, PlatformConfig, parse_platform_config


@dataclass(frozen=True)
class StackFile:
    path: Path
    project: str
    stack: str
    config: dict[str, Any]
    """Every config key as `namespace:key`, secrets replaced by a placeholder."""
    secret_keys: tuple[str, ...]
    platform: PlatformConfig
    secret_fingerprints: dict[str, str] = field(default_factory=dict)
    """Per secret key, a digest of its ciphertext as the stack file holds it (already public in the
    repo), so a diff can tell that a secret changed without ever seeing it."""


def project_root(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml: the current one or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise UsageError(f"Pulumi.yaml: not found in {here} or its parents; run from the project folder")


def available_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def load_stack(
    stack: str | None, config_file: str | None, root: Path | None = None, deploy_phase: str | None = None
) -> StackFile:
    """Load and validate a stack file, by stack name or explicit path. Raises UsageError only.

    `deploy_phase` sets `llm-serving:deploy_phase` over the file's value, as
    `pulumi up --config llm-serving:deploy_phase=<phase>` does."""
    if config_file:
        path = Path(config_file)
        name = stack or _stack_name_from(path)
        root = root or project_root()  # the program is the current project's, wherever the file lives
    else:
        if not stack:
            raise UsageError("--stack: required (or --config FILE)")
        root = root or project_root()
        path = root / f"Pulumi.{stack}.yaml"
        if not path.is_file():
            allowed = ", ".join(available_stacks(root)) or "none"
            raise UsageError(f"{path.name}: no such stack file; stacks here: {allowed}")
        name = stack
    document = _read_yaml(path)
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path.name}: 'config' must be a mapping of 'namespace:key' to values")
    config, secret_keys = _normalise(raw)
    if deploy_phase is not None:
        config[f"{NAMESPACE}:deploy_phase"] = deploy_phase
    values = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith(f"{NAMESPACE}:")}
    try:
        platform = parse_platform_config(values)
    except ConfigError as exc:
        raise UsageError(f"{path.name}: {exc}") from None
    return StackFile(
        path=path,
        project=_project_name(root),
        stack=name,
        config=config,
        secret_keys=tuple(sorted(secret_keys)),
        platform=platform,
        secret_fingerprints={key: _fingerprint(_raw_value(raw, key)) for key in sorted(secret_keys)},
    )


def _stack_name_from(path: Path) -> str:
    parts = path.name.split(".")
    if len(parts) == 3 and parts[0] == "Pulumi" and parts[2] in ("yaml", "yml"):
        return parts[1]
    return path.stem


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{path.name}{where}: YAML syntax error: {problem}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError(f"{path.name}: must be a YAML mapping with a 'config' key")
    return document


def _normalise(raw: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Qualify bare keys with the project namespace; replace `secure:` values, never decrypting."""
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        full_key = key if ":" in str(key) else f"{NAMESPACE}:{key}"
        masked, had_secret = _mask_secure(value)
        config[full_key] = masked
        if had_secret:
            secret_keys.add(full_key)
    return config, secret_keys


def _raw_value(raw: dict[str, Any], full_key: str) -> Any:
    bare = full_key.split(":", 1)[1] if full_key.startswith(f"{NAMESPACE}:") else full_key
    return raw[full_key] if full_key in raw else raw.get(bare)


def _fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _mask_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        items = {k: _mask_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items_list = [_mask_secure(v) for v in value]
        return [v for v, _ in items_list], any(s for _, s in items_list)
    return value, False


def _project_name(root: Path) -> str:
    path = root / "Pulumi.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return NAMESPACE
    return str(document.get("name", NAMESPACE)) if isinstance(document, dict) else NAMESPACE
