"""AWS's IAM Roles Anywhere credential helper (`aws_signing_helper`), as on-prem pods run it.

One session's flags for both ways the pods use it: `credential-process` (the weight sync's AWS CLI,
`serving.RolesAnywhereCredentials`) and `serve` (a localhost IMDSv2-compatible endpoint beside the
metrics collector, `metrics_collector.RolesAnywhereSigning`). The flags are the helper's own
(rolesanywhere-credential-helper, cmd/credentials.go).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class HelperSession:
    """Which role the helper assumes, through which trust anchor and profile, and where it calls
    CreateSession (Roles Anywhere's interface endpoint over the private path; None: the public one)."""

    trust_anchor_arn: pulumi.Input[str]
    profile_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    endpoint_url: pulumi.Input[str] | None = None

    def flags(self, certificate_dir: str) -> pulumi.Output[list[str]]:
        """The helper's flags, with the certificate and key of a kubernetes.io/tls Secret at `certificate_dir`."""
        return pulumi.Output.all(self.trust_anchor_arn, self.profile_arn, self.role_arn, self.endpoint_url).apply(
            lambda v: [
                "--certificate", f"{certificate_dir}/tls.crt",
                "--private-key", f"{certificate_dir}/tls.key",
                "--trust-anchor-arn", v[0],
                "--profile-arn", v[1],
                "--role-arn", v[2],
                *(["--endpoint", v[3]] if v[3] else []),
            ]
        )  # fmt: skip
