"""Site-to-Site VPN tunnel options the platform uses, and what the policy pack accepts as strong.

Valid values are those the provider documents for `aws.ec2.VpnConnection` (pulumi-aws's
`tunnel1_*` argument docs, which follow the EC2 API's VpnTunnelOptionsSpecification); a test
parses those docs and checks every value here against them. Left unset, AWS permits IKEv1,
AES128, SHA1 and DH group 2 on a tunnel, so every option is stated explicitly.

Strong, per RFC 8247 (IKEv2 algorithm requirements) and NIST SP 800-77r1: IKEv2 only; AES-256
(GCM preferred); SHA-2 integrity; DH groups 14-21 (2048-bit MODP and up, ECP 256-521), not 2 or 5
(too small) nor 22-24 (MODP with small subgroups, RFC 8247 "SHOULD NOT").
"""

from __future__ import annotations

from typing import Any

STRONG_IKE_VERSIONS = frozenset({"ikev2"})
STRONG_ENCRYPTION = frozenset({"AES256", "AES256-GCM-16"})
STRONG_INTEGRITY = frozenset({"SHA2-256", "SHA2-384", "SHA2-512"})
STRONG_DH_GROUPS = frozenset({14, 15, 16, 17, 18, 19, 20, 21})
# Dead peer detection: restart the IKE negotiation (`clear` drops the tunnel, `none` never notices).
DPD_TIMEOUT_ACTIONS = frozenset({"restart"})
DPD_TIMEOUT_SECONDS = 30  # the provider's minimum

# What each tunnel of the platform's connections states (pulumi-aws argument suffixes).
TUNNEL_OPTIONS: dict[str, Any] = {
    "ike_versions": ["ikev2"],
    "phase1_encryption_algorithms": ["AES256-GCM-16"],
    "phase1_integrity_algorithms": ["SHA2-384"],
    "phase1_dh_group_numbers": [20],
    "phase2_encryption_algorithms": ["AES256-GCM-16"],
    "phase2_integrity_algorithms": ["SHA2-384"],
    "phase2_dh_group_numbers": [20],
    "dpd_timeout_action": "restart",
    "dpd_timeout_seconds": DPD_TIMEOUT_SECONDS,
    # AWS starts the negotiation (IKEv2 only): the tunnel comes up without waiting for the data centre.
    "startup_action": "start",
}

# Options the pack reads on the plan (camelCase inputs) for each tunnel, and the strong set of each.
STRONG_LISTS: dict[str, frozenset[Any]] = {
    "IkeVersions": STRONG_IKE_VERSIONS,
    "Phase1EncryptionAlgorithms": STRONG_ENCRYPTION,
    "Phase1IntegrityAlgorithms": STRONG_INTEGRITY,
    "Phase1DhGroupNumbers": STRONG_DH_GROUPS,
    "Phase2EncryptionAlgorithms": STRONG_ENCRYPTION,
    "Phase2IntegrityAlgorithms": STRONG_INTEGRITY,
    "Phase2DhGroupNumbers": STRONG_DH_GROUPS,
}
TUNNELS = ("tunnel1", "tunnel2")
