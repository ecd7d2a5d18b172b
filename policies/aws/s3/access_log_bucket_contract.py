"""aws-s3-access-log-bucket-contract — the access-log exemption cannot be claimed from the plan.

Some S3 controls (CMK encryption, versioning, logging itself) cannot apply to the bucket that
receives server access logs. Which bucket that is comes from a contract the program sets, not from
what a BucketLogging points at: the bucket is tagged llm-serving/data=access-logs AND named with
-s3-logs- (components.weights). This policy checks the contract both ways: a marked bucket
receives logs and holds nothing else, and logs go to marked buckets only.
"""

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.conventions import ACCESS_LOG_BUCKET_MARK, ACCESS_LOGS_DATA, DATA_TAG, WEIGHTS_PREFIX
from policies.review import Controls, Review
from policies.support import (
    BUCKET_TYPE,
    as_list,
    depends_on,
    is_access_log_bucket,
    resources_of_type,
    tag,
)

LOGGING_TYPE = "aws:s3/bucketLogging:BucketLogging"
REPLICATION_TYPE = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LIFECYCLE_TYPE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
IAM_DOCUMENT_TYPES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/role:Role": "inlinePolicies",
}
MARK = f"tagged {DATA_TAG}={ACCESS_LOGS_DATA} and named with '{ACCESS_LOG_BUCKET_MARK}'"


def _lifecycle_prefixes(config) -> list[str]:
    """Prefixes a lifecycle configuration's rules act on (`filter.prefix`, or the legacy `prefix`)."""
    prefixes = []
    for rule in as_list(config.props.get("rules")):
        if not isinstance(rule, Mapping):
            continue
        rule_filter = rule.get("filter")
        prefix = rule_filter.get("prefix") if isinstance(rule_filter, Mapping) else None
        prefix = prefix or rule.get("prefix")
        if isinstance(prefix, str):
            prefixes.append(prefix)
    return prefixes


def _validate_marked(args: StackValidationArgs, bucket, report_violation: ReportViolation) -> None:
    resources = args.resources
    loggings = resources_of_type(resources, LOGGING_TYPE)
    if not any(depends_on(logging, "targetBucket", bucket.urn) for logging in loggings):
        report_violation(f"access-log bucket '{bucket.name}' receives no server access logs.", bucket.urn)
    for config in resources_of_type(resources, REPLICATION_TYPE):
        if depends_on(config, "bucket", bucket.urn) or depends_on(config, "rules", bucket.urn):
            report_violation(
                f"replication '{config.name}' copies objects to or from access-log bucket '{bucket.name}': an "
                "access-log bucket holds only logs.",
                config.urn,
            )
    for config in resources_of_type(resources, LIFECYCLE_TYPE):
        if depends_on(config, "bucket", bucket.urn) and any(
            p.startswith(WEIGHTS_PREFIX) for p in _lifecycle_prefixes(config)
        ):
            report_violation(
                f"lifecycle '{config.name}' manages '{WEIGHTS_PREFIX}/' objects in access-log bucket "
                f"'{bucket.name}': an access-log bucket holds only logs.",
                config.urn,
            )
    name = bucket.props.get("bucket")
    for type_token, prop in IAM_DOCUMENT_TYPES.items():
        for document in resources_of_type(resources, type_token):
            named = isinstance(name, str) and name in str(document.props.get(prop) or "")
            if named or any(dep.urn == bucket.urn for dep in document.property_dependencies.get(prop) or []):
                report_violation(
                    f"IAM policy '{document.name}' grants access to access-log bucket '{bucket.name}': only S3 log "
                    "delivery writes there.",
                    document.urn,
                )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    buckets = resources_of_type(args.resources, BUCKET_TYPE)
    for bucket in buckets:
        tagged = tag(bucket, DATA_TAG) == ACCESS_LOGS_DATA
        name = bucket.props.get("bucket")
        named = isinstance(name, str) and ACCESS_LOG_BUCKET_MARK in name
        if tagged and not is_access_log_bucket(bucket):
            report_violation(
                f"bucket '{bucket.name}' is tagged {DATA_TAG}={ACCESS_LOGS_DATA} but its name '{name}' lacks "
                f"'{ACCESS_LOG_BUCKET_MARK}': it gets no access-log exemption.",
                bucket.urn,
            )
        elif named and not tagged:
            report_violation(
                f"bucket '{bucket.name}' is named as an access-log bucket but tagged {DATA_TAG}="
                f"{tag(bucket, DATA_TAG) or 'unset'}: it gets no access-log exemption.",
                bucket.urn,
            )
        if is_access_log_bucket(bucket):
            _validate_marked(args, bucket, report_violation)
    marked = {bucket.urn for bucket in buckets if is_access_log_bucket(bucket)}
    for logging in resources_of_type(args.resources, LOGGING_TYPE):
        targets = [b for b in buckets if depends_on(logging, "targetBucket", b.urn)]
        if not targets or any(b.urn not in marked for b in targets):
            where = ", ".join(f"'{b.name}'" for b in targets) or "a bucket outside this stack"
            report_violation(
                f"server access logging '{logging.name}' delivers to {where}, not an access-log bucket ({MARK}).",
                logging.urn,
            )


policy = StackValidationPolicy(
    name="aws-s3-access-log-bucket-contract",
    description=(
        f"Access-log buckets are the buckets {MARK}; each receives server access logs and holds nothing else (no "
        "replication, no lifecycle of model weights, no IAM grant), and every BucketLogging delivers to one of "
        "them. Only these buckets get the access-log exemptions from the CMK, versioning and logging policies."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.9", version="1.0.0"),
    remediation_steps=(
        "Deliver access logs to the WeightStore's log bucket (components.weights), keep model data out of it, "
        f"and never tag or name another bucket {DATA_TAG}={ACCESS_LOGS_DATA} / '{ACCESS_LOG_BUCKET_MARK}'."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.9", "S3.17"), nist_800_53=("AU-9", "SC-28"), soc2=("CC6.1", "CC7.2")),
    why=(
        "If pointing one BucketLogging at the weights bucket made it an 'access-log bucket', the weights could "
        "drop to AES256 and lose versioning unseen; the exemption must come from a mark the pack checks."
    ),
)
