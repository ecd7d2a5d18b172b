"""aws-vpn-tunnels-strong — every Site-to-Site VPN tunnel states IKEv2 and strong algorithms only,
restarts on dead peer detection and logs its activity.

Left unset, AWS permits IKEv1, AES128, SHA1 and DH group 2 on a tunnel, so an unset option is a
violation too. The strong sets are `components.vpn_tunnels`' (RFC 8247, NIST SP 800-77r1).
"""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components.vpn_tunnels import DPD_TIMEOUT_ACTIONS, STRONG_LISTS, TUNNELS
from policies.review import Controls, Review
from policies.support import as_list

VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"


def _shown(values: object) -> str:
    return ", ".join(str(v) for v in sorted(values, key=str))  # type: ignore[call-overload]


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != VPN_CONNECTION:
        return
    props = args.props
    for tunnel in TUNNELS:
        for option, strong in STRONG_LISTS.items():
            key = f"{tunnel}{option}"
            values = as_list(props.get(key))
            if not values:
                report_violation(
                    f"{key} is unset: AWS then permits its weak defaults too ({_shown(strong)} only).", None
                )
                continue
            weak = [v for v in values if v not in strong]
            if weak:
                report_violation(f"{key} allows {_shown(weak)}; strong: {_shown(strong)}.", None)
        action = props.get(f"{tunnel}DpdTimeoutAction")
        if action not in DPD_TIMEOUT_ACTIONS:
            report_violation(
                f"{tunnel}DpdTimeoutAction is {action or 'unset (clear)'}: a dead peer must restart the negotiation "
                "(restart).",
                None,
            )
        log_options = props.get(f"{tunnel}LogOptions")
        cloudwatch = log_options.get("cloudwatchLogOptions") if isinstance(log_options, Mapping) else None
        if not (
            isinstance(cloudwatch, Mapping) and cloudwatch.get("logEnabled") is True and cloudwatch.get("logGroupArn")
        ):
            report_violation(f"{tunnel}LogOptions does not log the tunnel's activity to CloudWatch Logs.", None)


policy = ResourceValidationPolicy(
    name="aws-vpn-tunnels-strong",
    description=(
        "Both tunnels of every Site-to-Site VPN connection state IKEv2, AES-256, SHA-2 and DH groups 14-21 only, "
        "restart on a dead peer timeout and log to CloudWatch Logs."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-8, SC-13", version="5"),
    remediation_steps=(
        "Declare VPN connections through components.datacentre_link.DataCentreLink, which states "
        "components.vpn_tunnels.TUNNEL_OPTIONS on both tunnels and logs them to a KMS-encrypted log group."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-8", "SC-13", "AU-12"), soc2=("CC6.7",)),
    why=(
        "The VPN carries weights, prompts and metrics between the data centre and every region: a tunnel "
        "that still accepts IKEv1, SHA1 or DH group 2 can be downgraded and read on the internet path."
    ),
)
