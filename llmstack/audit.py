"""`llmstack audit --stack S`: does the live account still hold what the reviewed plan says?

A security reviewer signs a plan; after `pulumi up`, a console click or another tool can undo what
they signed without Pulumi noticing until the next refresh. Audit reads, for every resource of the
kinds below, the properties a reviewer signed off and compares them with what AWS answers now:
KMS rotation and key policies; bucket encryption, versioning, public access block, TLS-only policy
and replication; EKS endpoint access, encryption and control-plane logging; launch templates'
metadata options and root volume encryption; WAF associations and rules; API stages' access logs,
tracing and method settings, and each method's authorization; log groups' key and retention; the
Budget. One line per resource, `expected X, found Y` per drifted property; exit 0 no drift,
1 drift, 2 bad input.

The plan's identifiers are the offline mock's; the stack's state (`pulumi stack export`) names
the real ones, so each mock id in the plan is translated to the deployed resource's id before
comparing. Every call is a read; `llmstack/data/audit-policy.json` is the IAM policy it needs,
and a test derives the calls from this module to check that policy covers them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from llmstack.aws_clients import ClientFactory, boto3_clients, error_code, is_aws_error
from llmstack.diff import flatten
from llmstack.errors import UsageError
from llmstack.mock_ids import mock_identity
from llmstack.offline import ACCOUNT_ID
from llmstack.planfile import load_plan, placement
from llmstack.stackfile import project_root

Status = Literal["ok", "drift"]
Compared = tuple[str, Any, Any]
"""(property, expected, found)."""

ABSENT = "(none)"
"""What a property or resource that AWS does not have is shown as."""
# Codes AWS answers for "there is no such thing" (the resource, or the one setting asked for).
NOT_FOUND = {
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ReplicationConfigurationNotFoundError",
    "NotFoundException",
    "ResourceNotFoundException",
    "WAFNonexistentItemException",
    "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateId.Malformed",
}
GLOBAL_REGION = "us-east-1"
"""Where global services (Budgets) are asked."""


@dataclass(frozen=True)
class Finding:
    resource: str
    """The resource's logical name in the plan."""
    type: str
    region: str
    status: Status
    detail: str

    def line(self) -> str:
        kind = self.type.rsplit(":", 1)[-1]
        return f"{self.status:<5} {self.region:<10} {kind} {self.resource}: {self.detail}"


# --- the deployed stack ------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Mapping[str, Any]]:
    """A `pulumi stack export` file → each resource's record by URN (its `id`, `outputs`, `inputs`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file (write it with: pulumi stack export --stack S --file {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a `pulumi stack export` JSON ({exc.__class__.__name__})") from None
    return parse_state(text, str(path))


def parse_state(text: str, source: str) -> dict[str, Mapping[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not a `pulumi stack export` JSON ({exc.__class__.__name__})") from None
    resources = (document.get("deployment") or {}).get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) and "urn" in r for r in resources):
        raise UsageError(f"{source}: not a `pulumi stack export` JSON (no deployment.resources with urns)")
    return {r["urn"]: r for r in resources}


def export_state(stack: str) -> dict[str, Mapping[str, Any]]:
    """The stack's state from the Pulumi CLI, when no --state file is given (read from its output,
    never written to disk: it names every resource of the account)."""
    if shutil.which("pulumi") is None:
        raise UsageError("pulumi CLI not found: pass --state FILE (from `pulumi stack export --stack S --file FILE`)")
    result = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        message = " ".join(result.stderr.split())[:300]
        raise UsageError(f"pulumi stack export --stack {stack} failed: {message}")
    return parse_state(result.stdout, f"pulumi stack export --stack {stack}")


class Translation:
    """The plan's mock identifiers → the deployed resources' real ones, in any string.

    The offline mock derives each AWS resource's id and computed outputs (ARN, a REST API's root
    resource id) from its type, region and name; the same derivation over the plan gives every
    mock value, and the state has the real one under the same URN and key. Mock ids are hashes
    (uuids, `lt-` + 17 hex, API Gateway ids), so replacing them as substrings also fixes ARNs and
    paths built from them.
    """

    MIN_TOKEN = 6

    def __init__(self, regions: Mapping[str, str]):
        self.regions = regions
        self._pairs: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def of(
        cls, plan: Mapping[str, Any], state: Mapping[str, Mapping[str, Any]], regions: Mapping[str, str]
    ) -> Translation:
        translation = cls(regions)
        for resource in plan["resources"]:
            deployed = state.get(resource["urn"])
            if deployed is not None:
                translation.learn(resource, deployed)
        return translation

    def learn(self, resource: Mapping[str, Any], deployed: Mapping[str, Any]) -> None:
        """Pair one plan resource's mock id and outputs with its deployed record's."""
        if not resource["type"].startswith("aws:") or not deployed.get("id"):
            return
        region = self.regions.get(resource["urn"], GLOBAL_REGION)
        mock_id, mock_outputs = mock_identity(resource["type"], resource["name"], resource["inputs"], region)
        real_outputs = deployed.get("outputs") or {}
        pairs = [(mock_id, deployed["id"])]
        # Only identifiers: a computed `status` or `endpoint` is no token to replace in other strings.
        pairs += [(v, real_outputs.get(k)) for k, v in mock_outputs.items() if k == "arn" or k.endswith(("Id", "Arn"))]
        for mock, real in pairs:
            if isinstance(mock, str) and isinstance(real, str) and mock != real and len(mock) >= self.MIN_TOKEN:
                self._pairs[mock] = real
                self._pattern = None

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if not self._pairs:
                return value
            if self._pattern is None:  # longest first, so an ARN wins over the id inside it
                tokens = sorted(self._pairs, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(t) for t in tokens))
            return self._pattern.sub(lambda m: self._pairs[m.group(0)], value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


# --- comparing ---------------------------------------------------------------------------------


def policy_document(text: Any) -> Any:
    """A policy as a comparable value: parsed, with single values as one-item sorted lists (AWS
    may answer `"Action": "s3:*"` for what was sent as `["s3:*"]`, and reorders nothing else)."""
    if text in (None, ABSENT):
        return ABSENT
    document = json.loads(text) if isinstance(text, str) else text

    def listed(value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        return sorted(values, key=json.dumps)

    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement:
                statement[key] = listed(statement[key])
        for key in ("Principal", "NotPrincipal"):
            if isinstance(statement.get(key), dict):
                statement[key] = {k: listed(v) for k, v in statement[key].items()}
        for operator, conditions in (statement.get("Condition") or {}).items():
            statement["Condition"][operator] = {k: listed(v) for k, v in conditions.items()}
    return document


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def differences(compared: Sequence[Compared]) -> list[str]:
    """`property: expected X, found Y` for each compared pair that differs; a document names the
    first path inside it that differs."""
    lines = []
    for prop, expected, found in compared:
        if expected == found:
            continue
        if _scalars(expected) and _scalars(found):
            missing = [_shown(v) for v in expected if v not in found]
            unexpected = [_shown(v) for v in found if v not in expected]
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(unexpected)}"] if unexpected else []
            )
            lines.append(f"{prop}: {'; '.join(parts) or f'expected {_shown(expected)}, found {_shown(found)}'}")
        elif isinstance(expected, (dict, list)) and isinstance(found, (dict, list)):
            old, new = flatten(expected), flatten(found)
            path = next(p for p in sorted(old.keys() | new.keys()) if old.get(p, ABSENT) != new.get(p, ABSENT))
            lines.append(
                f"{prop} {path}: expected {_shown(old.get(path, ABSENT))}, found {_shown(new.get(path, ABSENT))}"
            )
        else:
            lines.append(f"{prop}: expected {_shown(expected)}, found {_shown(found)}")
    return lines


def _scalars(value: Any) -> bool:
    """A list of plain values (log types, CIDRs), compared as a set: what is missing, what is extra."""
    return isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)


def _on(value: Any) -> bool:
    """A provider boolean, which launch templates take as the strings "true"/"false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --- the audit ---------------------------------------------------------------------------------


class Audit:
    """The checks for one plan against the live account; `run` yields one finding per resource."""

    def __init__(
        self,
        plan: Mapping[str, Any],
        state: Mapping[str, Mapping[str, Any]],
        clients: ClientFactory,
        account: str = ACCOUNT_ID,
    ):
        self.plan = plan
        self.state = state
        self._clients = clients
        self.account = account
        self.regions = {urn: place["region"] or GLOBAL_REGION for urn, place in placement(plan["resources"]).items()}
        self.translate = Translation.of(plan, state, self.regions)
        self.checks: dict[str, Callable[[Mapping[str, Any], str, str], Iterator[Compared]]] = {
            "aws:kms/key:Key": self.kms_key,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
                self.bucket_encryption
            ),
            "aws:s3/bucketVersioning:BucketVersioning": self.bucket_versioning,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": self.bucket_public_access,
            "aws:s3/bucketPolicy:BucketPolicy": self.bucket_policy,
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig": self.bucket_replication,
            "aws:eks/cluster:Cluster": self.eks_cluster,
            "aws:ec2/launchTemplate:LaunchTemplate": self.launch_template,
            "aws:wafv2/webAclAssociation:WebAclAssociation": self.waf_association,
            "aws:wafv2/webAcl:WebAcl": self.web_acl,
            "aws:apigateway/stage:Stage": self.stage,
            "aws:apigateway/methodSettings:MethodSettings": self.method_settings,
            "aws:apigateway/method:Method": self.method,
            "aws:cloudwatch/logGroup:LogGroup": self.log_group,
            "aws:budgets/budget:Budget": self.budget,
        }

    def client(self, service: str, region: str) -> Any:
        return self._clients(service, region)

    def audited(self) -> list[Mapping[str, Any]]:
        chosen = [r for r in self.plan["resources"] if r["type"] in self.checks]
        return sorted(chosen, key=lambda r: (self.regions[r["urn"]], r["type"], r["name"]))

    def run(self) -> Iterator[Finding]:
        for resource in self.audited():
            region = self.regions[resource["urn"]]

            def finding(status: Status, detail: str, r: Mapping[str, Any] = resource, where: str = region) -> Finding:
                return Finding(r["name"], r["type"], where, status, detail)

            deployed = self.state.get(resource["urn"])
            if deployed is None or not deployed.get("id"):
                yield finding("drift", "in the plan, not in the stack's state (not deployed, or deleted from it)")
                continue
            expected = self.translate(resource["inputs"])
            try:
                compared = list(self.checks[resource["type"]](expected, str(deployed["id"]), region))
            except Exception as exc:  # noqa: BLE001 - a refused or failed call is a finding, never a traceback
                if not is_aws_error(exc):
                    raise
                code = error_code(exc)
                if code in NOT_FOUND:
                    yield finding("drift", f"expected it to exist, found none ({code})")
                else:
                    yield finding("drift", f"cannot check: {code} ({' '.join(str(exc).split())[:160]})")
                continue
            drifted = differences(compared)
            if drifted:
                yield finding("drift", "; ".join(drifted))
            else:
                yield finding("ok", f"{len(compared)} {'property' if len(compared) == 1 else 'properties'} as planned")

    def _absent_on(self, codes: set[str], call: Callable[[], Any]) -> Any:
        """The call's answer, or None where AWS says the one setting asked for is not there."""
        try:
            return call()
        except Exception as exc:
            if is_aws_error(exc) and error_code(exc) in codes:
                return None
            raise

    # --- KMS -------------------------------------------------------------------------------------

    def kms_key(self, expected: Mapping[str, Any], key_id: str, region: str) -> Iterator[Compared]:
        kms = self.client("kms", region)
        rotation = kms.get_key_rotation_status(KeyId=key_id)
        yield "enableKeyRotation", bool(expected.get("enableKeyRotation")), rotation["KeyRotationEnabled"]
        if expected.get("policy"):
            found = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
            yield "policy", policy_document(expected["policy"]), policy_document(found)

    # --- S3 --------------------------------------------------------------------------------------

    def bucket_encryption(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self._absent_on(
            {"ServerSideEncryptionConfigurationNotFoundError"},
            lambda: self.client("s3", region).get_bucket_encryption(Bucket=expected["bucket"]),
        )
        rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        found = rules[0] if rules else {}
        default = found.get("ApplyServerSideEncryptionByDefault", {})
        planned = (expected.get("rules") or [{}])[0]
        planned_default = planned.get("applyServerSideEncryptionByDefault") or {}
        yield "sseAlgorithm", planned_default.get("sseAlgorithm"), default.get("SSEAlgorithm", ABSENT)
        yield "kmsMasterKeyId", planned_default.get("kmsMasterKeyId", ABSENT), default.get("KMSMasterKeyID", ABSENT)
        yield "bucketKeyEnabled", bool(planned.get("bucketKeyEnabled")), bool(found.get("BucketKeyEnabled"))

    def bucket_versioning(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self.client("s3", region).get_bucket_versioning(Bucket=expected["bucket"])
        planned = (expected.get("versioningConfiguration") or {}).get("status")
        yield "versioningConfiguration.status", planned, answer.get("Status", "Disabled")

    def bucket_public_access(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self._absent_on(
            {"NoSuchPublicAccessBlockConfiguration"},
            lambda: self.client("s3", region).get_public_access_block(Bucket=expected["bucket"]),
        )
        found = (answer or {}).get("PublicAccessBlockConfiguration", {})
        for prop, key in (
            ("blockPublicAcls", "BlockPublicAcls"),
            ("blockPublicPolicy", "BlockPublicPolicy"),
            ("ignorePublicAcls", "IgnorePublicAcls"),
            ("restrictPublicBuckets", "RestrictPublicBuckets"),
        ):
            yield prop, bool(expected.get(prop)), bool(found.get(key, False))

    def bucket_policy(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self._absent_on(
            {"NoSuchBucketPolicy"}, lambda: self.client("s3", region).get_bucket_policy(Bucket=expected["bucket"])
        )
        yield "policy", policy_document(expected.get("policy")), policy_document((answer or {}).get("Policy"))

    def bucket_replication(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self._absent_on(
            {"ReplicationConfigurationNotFoundError"},
            lambda: self.client("s3", region).get_bucket_replication(Bucket=expected["bucket"]),
        )
        found = (answer or {}).get("ReplicationConfiguration", {})
        yield "role", expected.get("role"), found.get("Role", ABSENT)

        def planned(rule: Mapping[str, Any]) -> dict[str, Any]:
            destination = rule.get("destination") or {}
            return {
                "status": rule.get("status"),
                "prefix": (rule.get("filter") or {}).get("prefix", ""),
                "bucket": destination.get("bucket"),
                "replicaKmsKeyId": (destination.get("encryptionConfiguration") or {}).get("replicaKmsKeyId", ABSENT),
            }

        def live(rule: Mapping[str, Any]) -> dict[str, Any]:
            destination = rule.get("Destination") or {}
            return {
                "status": rule.get("Status"),
                "prefix": (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", "")),
                "bucket": destination.get("Bucket"),
                "replicaKmsKeyId": (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID", ABSENT),
            }

        yield (
            "rules",
            {r.get("id"): planned(r) for r in expected.get("rules") or []},
            {r.get("ID"): live(r) for r in found.get("Rules", [])},
        )

    # --- EKS and nodes ---------------------------------------------------------------------------

    def eks_cluster(self, expected: Mapping[str, Any], cluster_id: str, region: str) -> Iterator[Compared]:
        cluster = self.client("eks", region).describe_cluster(name=expected.get("name") or cluster_id)["cluster"]
        vpc, found_vpc = expected.get("vpcConfig") or {}, cluster.get("resourcesVpcConfig") or {}
        for prop in ("endpointPublicAccess", "endpointPrivateAccess"):
            yield f"vpcConfig.{prop}", bool(vpc.get(prop)), bool(found_vpc.get(prop))
        if vpc.get("endpointPublicAccess"):
            planned_cidrs = sorted(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"])
            yield "vpcConfig.publicAccessCidrs", planned_cidrs, sorted(found_vpc.get("publicAccessCidrs") or [])
        enabled = sorted(
            kind
            for setting in (cluster.get("logging") or {}).get("clusterLogging", [])
            if setting.get("enabled")
            for kind in setting.get("types", [])
        )
        yield "enabledClusterLogTypes", sorted(expected.get("enabledClusterLogTypes") or []), enabled
        planned_config = expected.get("encryptionConfig") or []  # one object in pulumi-aws 7, a list before
        planned_config = [planned_config] if isinstance(planned_config, dict) else planned_config
        planned_keys = [(c.get("provider") or {}).get("keyArn") for c in planned_config]
        found_keys = [(c.get("provider") or {}).get("keyArn") for c in cluster.get("encryptionConfig") or []]
        yield "encryptionConfig.provider.keyArn", planned_keys, found_keys

    def launch_template(self, expected: Mapping[str, Any], template_id: str, region: str) -> Iterator[Compared]:
        # The default version, and the latest: node groups pin the latest the state knows, so a
        # version added outside Pulumi rolls out on the next `up` after a refresh.
        answer = self.client("ec2", region).describe_launch_template_versions(
            LaunchTemplateId=template_id, Versions=["$Default", "$Latest"]
        )
        versions = {v["VersionNumber"]: v for v in answer["LaunchTemplateVersions"]}
        for number, version in sorted(versions.items()):
            label = "" if len(versions) == 1 else f" (v{number}{', default' if version.get('DefaultVersion') else ''})"
            yield from self._template_data(expected, version.get("LaunchTemplateData") or {}, label)

    @staticmethod
    def _template_data(expected: Mapping[str, Any], data: Mapping[str, Any], label: str) -> Iterator[Compared]:
        planned, found = expected.get("metadataOptions") or {}, data.get("MetadataOptions") or {}
        for prop, key in (
            ("httpTokens", "HttpTokens"),
            ("httpEndpoint", "HttpEndpoint"),
            ("httpPutResponseHopLimit", "HttpPutResponseHopLimit"),
        ):
            yield f"metadataOptions.{prop}{label}", planned.get(prop, ABSENT), found.get(key, ABSENT)
        live_devices = {d.get("DeviceName"): d.get("Ebs") or {} for d in data.get("BlockDeviceMappings") or []}
        for device in expected.get("blockDeviceMappings") or []:
            name = device.get("deviceName")
            planned_encrypted = _on((device.get("ebs") or {}).get("encrypted"))
            found_encrypted = bool(live_devices.get(name, {}).get("Encrypted"))
            yield f"blockDeviceMappings[{name}].ebs.encrypted{label}", planned_encrypted, found_encrypted

    # --- the edge --------------------------------------------------------------------------------

    def waf_association(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        answer = self.client("wafv2", region).get_web_acl_for_resource(ResourceArn=expected["resourceArn"])
        yield "webAclArn", expected.get("webAclArn"), (answer.get("WebACL") or {}).get("ARN", ABSENT)

    def web_acl(self, expected: Mapping[str, Any], acl_id: str, region: str) -> Iterator[Compared]:
        acl = self.client("wafv2", region).get_web_acl(Name=expected["name"], Scope=expected["scope"], Id=acl_id)[
            "WebACL"
        ]
        # The provider spells actions `allow`/`none`, the API `Allow`/`None`.
        yield (
            "defaultAction",
            sorted(k.lower() for k in expected.get("defaultAction") or {}),
            sorted(k.lower() for k in acl.get("DefaultAction") or {}),
        )

        def action(rule: Mapping[str, Any], keys: tuple[str, str]) -> str:
            chosen = rule.get(keys[0]) or rule.get(keys[1]) or {}
            return ",".join(sorted(k.lower() for k in chosen)) or ABSENT

        planned = {r["name"]: [r.get("priority"), action(r, ("action", "overrideAction"))] for r in expected["rules"]}
        found = {r["Name"]: [r.get("Priority"), action(r, ("Action", "OverrideAction"))] for r in acl.get("Rules", [])}
        yield "rules", planned, found

    def stage(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        stage = self.client("apigateway", region).get_stage(
            restApiId=expected["restApi"], stageName=expected["stageName"]
        )
        planned_logs = (expected.get("accessLogSettings") or {}).get("destinationArn", ABSENT)
        found_logs = (stage.get("accessLogSettings") or {}).get("destinationArn", ABSENT)
        yield "accessLogSettings.destinationArn", planned_logs, found_logs
        yield "xrayTracingEnabled", bool(expected.get("xrayTracingEnabled")), bool(stage.get("tracingEnabled"))

    def method_settings(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        stage = self.client("apigateway", region).get_stage(
            restApiId=expected["restApi"], stageName=expected["stageName"]
        )
        found = (stage.get("methodSettings") or {}).get(expected["methodPath"], {})
        for prop, value in sorted((expected.get("settings") or {}).items()):
            yield f"settings.{prop}", value, found.get(prop, ABSENT)

    def method(self, expected: Mapping[str, Any], _id: str, region: str) -> Iterator[Compared]:
        method = self.client("apigateway", region).get_method(
            restApiId=expected["restApi"], resourceId=expected["resourceId"], httpMethod=expected["httpMethod"]
        )
        yield "authorization", expected.get("authorization"), method.get("authorizationType", ABSENT)
        yield "authorizerId", expected.get("authorizerId", ABSENT), method.get("authorizerId", ABSENT)
        yield "apiKeyRequired", bool(expected.get("apiKeyRequired")), bool(method.get("apiKeyRequired"))

    # --- logs and money --------------------------------------------------------------------------

    def log_group(self, expected: Mapping[str, Any], group: str, region: str) -> Iterator[Compared]:
        name = expected.get("name") or group
        pages = self.client("logs", region).get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        found = next((g for page in pages for g in page["logGroups"] if g["logGroupName"] == name), None)
        if found is None:
            yield "logGroupName", name, ABSENT
            return
        yield "kmsKeyId", expected.get("kmsKeyId", ABSENT), found.get("kmsKeyId", ABSENT)
        yield "retentionInDays", expected.get("retentionInDays", ABSENT), found.get("retentionInDays", ABSENT)

    def budget(self, expected: Mapping[str, Any], budget_id: str, region: str) -> Iterator[Compared]:
        name = expected.get("name") or budget_id.split(":", 1)[-1]
        budgets = self.client("budgets", GLOBAL_REGION)
        found = budgets.describe_budget(AccountId=self.account, BudgetName=name)["Budget"]
        limit = found.get("BudgetLimit") or {}
        yield "limitAmount", float(expected.get("limitAmount") or 0), float(limit.get("Amount") or 0)
        notifications = budgets.describe_notifications_for_budget(AccountId=self.account, BudgetName=name)
        yield (
            "notifications",
            sorted(
                f"{n.get('notificationType')} {n.get('comparisonOperator')} {float(n.get('threshold', 0)):g}"
                for n in expected.get("notifications") or []
            ),
            sorted(
                f"{n.get('NotificationType')} {n.get('ComparisonOperator')} {float(n.get('Threshold', 0)):g}"
                for n in notifications.get("Notifications", [])
            ),
        )


# --- command line ------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="compare the live account with the reviewed plan on what a security reviewer signed"
    )
    parser.add_argument("--stack", required=True, help="the stack whose deployment to audit")
    parser.add_argument(
        "--plan", type=Path, help="the reviewed plan.json (default: build/<stack>/plan.json from llmstack plan)"
    )
    parser.add_argument(
        "--state", type=Path, help="the stack's `pulumi stack export` JSON (default: run pulumi stack export)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, clients: ClientFactory | None = None) -> int:
    plan_path = args.plan or project_root() / "build" / args.stack / "plan.json"
    if args.plan is None and not plan_path.exists():
        raise UsageError(f"{plan_path}: no such file; run `llmstack plan --stack {args.stack}` first or pass --plan")
    plan = load_plan(str(plan_path))
    if plan.get("stack") != args.stack:
        raise UsageError(f"{plan_path}: a plan of stack {plan.get('stack')!r}, not {args.stack!r}")
    state = load_state(args.state) if args.state else export_state(args.stack)
    account = _plan_account(plan)
    findings = list(Audit(plan, state, clients or boto3_clients(), account).run())
    return report(findings, args.format, args.stack)


def _plan_account(plan: Mapping[str, Any]) -> str:
    """The account the plan's AWS providers are pinned to (`allowedAccountIds`), else the mock's."""
    for resource in plan["resources"]:
        if resource["type"] == "pulumi:providers:aws":
            allowed = resource["inputs"].get("allowedAccountIds")
            if isinstance(allowed, str):
                allowed = json.loads(allowed)
            if isinstance(allowed, list) and allowed:
                return str(allowed[0])
    return ACCOUNT_ID


def report(findings: Sequence[Finding], fmt: str, stack: str, out: Any = None) -> int:
    out = out or sys.stdout
    drifted = [f for f in findings if f.status == "drift"]
    if fmt == "json":
        document = {"stack": stack, "drift": bool(drifted), "findings": [asdict(f) for f in findings]}
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(f"llm-serving audit — stack {stack}\n")
        out.writelines(f"{f.line()}\n" for f in findings)
        verdict = "DRIFT" if drifted else "NO DRIFT"
        out.write(f"{verdict}: {len(drifted)} of {len(findings)} resources drifted from the plan\n")
    return 1 if drifted else 0
