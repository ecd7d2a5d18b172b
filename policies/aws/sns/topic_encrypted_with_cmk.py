"""aws-sns-topic-encrypted-with-cmk — SNS topics encrypt with a customer-managed KMS key of this stack."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY, depends_on, region_of, resources_of_type

TOPIC_TYPE = "aws:sns/topic:Topic"
KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    account = args.get_config().get("accountId")
    keys = resources_of_type(args.resources, *KEY_TYPES)
    for topic in resources_of_type(args.resources, TOPIC_TYPE):

        def report(message: str, topic=topic) -> None:
            report_violation(f"SNS topic '{topic.name}' {message}", topic.urn)

        key = topic.props.get("kmsMasterKeyId")
        if not key:
            report("sets no kmsMasterKeyId: its messages (cost and alert details) are stored unencrypted.")
            continue
        if not isinstance(key, str) or ":alias/aws/" in key or key.startswith("alias/aws/"):
            # AWS services that publish (Cost Anomaly Detection, CloudWatch) need a key policy grant,
            # which the AWS-managed key's policy never gives: their messages would be dropped.
            report(f"kmsMasterKeyId {key!r} is an AWS-managed key: services cannot be granted its use.")
            continue
        parts = key.split(":")
        region = region_of(topic)
        if not any(depends_on(topic, "kmsMasterKeyId", k.urn) for k in keys) or (
            len(parts) < 6 or (account and parts[4] != account) or (region and parts[3] != region)
        ):
            report(f"kmsMasterKeyId {key} is not the ARN of a KMS key of this stack in the topic's region.")


policy = StackValidationPolicy(
    name="aws-sns-topic-encrypted-with-cmk",
    description=(
        "Every SNS topic sets kmsMasterKeyId to the ARN of a customer-managed KMS key this stack declares "
        "(computed from it), in the stack's account and the topic's region; never an AWS-managed alias/aws/* key."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="SNS.1", version="1.0.0"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Set `kms_master_key_id` on the aws.sns.Topic to the ARN of a key the stack declares beside it "
        "(components/cost_anomaly.py), whose key policy lets the publishing service use it."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("SNS.1",), nist_800_53=("SC-28",), soc2=("CC6.1",)),
    why=(
        "Alert topics carry what the stack spends and where; with the stack's key, reading them needs a grant "
        "the key policy controls, and the publishing service's grant is written down where reviewers read it."
    ),
)
