"""The global hostnames of the gateway: one per model, and one per model for each tenant that
policy.data_residency restricts — so latency routing only sends a model's requests to regions that
serve it, and a restricted tenant's only to regions that hold its key.

A single latency-routed name for every model would answer from the nearest region whether or not
it serves the model the request names (a REST API routes on the path, DNS cannot). So:
- `<model>.<domain>`: latency records in every region that serves the model; every unrestricted
  tenant has a key there.
- `<model>.<tenant>.<domain>`: for a restricted tenant, records only in the regions that serve the
  model and that its rules allow (its key and usage plan exist only there).
Each region's certificate covers `*.<domain>` and `*.<tenant>.<domain>` of the restricted tenants
it serves (a wildcard covers one label). Pure: no Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_DNS_NAME = 253
ACM_NAMES_PER_CERTIFICATE = 10  # ACM's default quota of domain names per certificate


@dataclass(frozen=True)
class ModelHostname:
    hostname: str
    model: str
    tenant: str | None = None
    """The restricted tenant the name is for; None: every unrestricted tenant."""

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL of the model on this name."""
        return f"https://{self.hostname}/v1/models/{self.model}"


@dataclass(frozen=True)
class RestrictedTenant:
    name: str
    regions: frozenset[str]
    """Where policy.data_residency allows it."""
    models: tuple[str, ...]


def hostnames_by_region(
    domain: str, serving: Mapping[str, Sequence[str]], restricted: Sequence[RestrictedTenant]
) -> dict[str, list[ModelHostname]]:
    """The names each region answers: `serving` maps each gateway model to the regions serving it."""
    result: dict[str, list[ModelHostname]] = {}
    for model, regions in serving.items():
        for region in regions:
            result.setdefault(region, []).append(ModelHostname(f"{model}.{domain}", model))
    for tenant in restricted:
        for model in tenant.models:
            for region in serving.get(model, ()):
                if region in tenant.regions:
                    result.setdefault(region, []).append(
                        ModelHostname(f"{model}.{tenant.name}.{domain}", model, tenant.name)
                    )
    return result


def certificate_names(domain: str, hostnames: Sequence[ModelHostname]) -> list[str]:
    """The wildcard names a region's certificate needs for its hostnames (sorted, `*.<domain>` first)."""
    tenants = sorted({h.tenant for h in hostnames if h.tenant})
    return [f"*.{domain}", *(f"*.{tenant}.{domain}" for tenant in tenants)]
