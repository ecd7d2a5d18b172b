"""`llmstack audit`: the prod plan, deployed into moto as `pulumi up` would leave it, audits clean;
each thing a console click can undo, undone one at a time on the live account, is found with the
exact line; and the IAM policy it ships covers exactly the calls it makes.

`Deployment` is a small `pulumi up` for the audited kinds: it walks the plan in registration
order, creates each resource in moto from its inputs (with the mock ids already translated to the
real ones moto returned for earlier resources) and records a `pulumi stack export` of the result.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import moto.kms.models
import moto.kms.utils
import pytest
from moto import mock_aws

from llmstack import audit
from llmstack.cli import main
from llmstack.planfile import placement
from tests.iam_calls import allowed_actions, calls_in_code, iam_action
from tests.llmstack.test_check_cli import planned
from tests.test_plan_iam_validity import findings

ACCOUNT = "123456789012"  # prod's aws_account_id, and moto's default account
POLICY = json.loads((Path(audit.__file__).parent / "data" / "audit-policy.json").read_text())


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory) -> dict[str, Any]:
    return planned("prod", tmp_path_factory)


def _replication_as_stored(self):
    """moto 5's GetBucketReplication answers every rule with `Filter: {Prefix: ""}` and delete-marker
    replication `Disabled` whatever was put (moto/s3/responses.py); S3 answers what was put, as this does."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError

    self.data["Action"] = "GetBucketReplication"
    stored = self.backend.get_bucket_replication(self.bucket_name)
    if not stored:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = stored["Rule"] if isinstance(stored["Rule"], list) else [stored["Rule"]]
    keys = ("ID", "Priority", "Status", "Filter", "DeleteMarkerReplication", "Destination")
    answer = {"Role": stored["Role"], "Rules": [{k: r[k] for k in keys if k in r} for r in rules]}
    return self.serialized(ActionResult({"ReplicationConfiguration": answer}))


@functools.cache
def _signing_key(key_spec: str) -> Any:
    return moto.kms.utils.generate_private_key(key_spec)


@pytest.fixture
def aws(monkeypatch):
    from moto.s3.responses import S3Response

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(S3Response, "get_bucket_replication", _replication_as_stored)
    # moto gives every KMS key, symmetric ones too, a fresh RSA-2048 signing key (0.04 s each);
    # the stack's keys are symmetric and never sign, so one per key spec serves them all.
    monkeypatch.setattr(moto.kms.models, "generate_private_key", _signing_key)
    _CLIENTS.clear()
    with mock_aws():
        yield
    _CLIENTS.clear()


_CLIENTS: dict[tuple[str, str], Any] = {}


def clients(service: str, region: str) -> Any:
    """One client per service and region for the test (creating one costs more than most calls)."""
    if (service, region) not in _CLIENTS:
        _CLIENTS[(service, region)] = boto3.client(service, region_name=region)
    return _CLIENTS[(service, region)]


def _bool(value: Any) -> bool:
    return value is True or value == "true"


def _in_dependency_order(resources: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Each resource after every one it depends on, as the engine creates them (plan.json is not in that order)."""
    by_urn = {r["urn"]: r for r in resources}
    done: set[str] = set()

    def visit(resource: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        if resource["urn"] in done:
            return
        done.add(resource["urn"])
        needs = set(resource.get("dependencies") or [])
        needs |= {u for urns in (resource.get("property_dependencies") or {}).values() for u in urns}
        for urn in sorted(needs):
            if urn in by_urn:
                yield from visit(by_urn[urn])
        yield resource

    for resource in resources:
        yield from visit(resource)


class Deployment:
    """The plan's audited resources (and what they reference) created in moto; `state` is the export."""

    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.plan = plan
        self.regions = {u: p["region"] or "us-east-1" for u, p in placement(plan["resources"]).items()}
        self.translation = audit.Translation(self.regions)
        self.records: list[dict[str, Any]] = []
        self.by_name: dict[str, dict[str, Any]] = {}
        makers: dict[str, Callable[[Any, dict[str, Any], str], tuple[str, dict[str, Any]]]] = {
            "aws:kms/key:Key": self.kms_key,
            "aws:cloudwatch/logGroup:LogGroup": self.log_group,
            "aws:s3/bucket:Bucket": self.bucket,
            "aws:s3/bucketVersioning:BucketVersioning": self.bucket_versioning,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
                self.bucket_encryption
            ),
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": self.bucket_public_access,
            "aws:s3/bucketPolicy:BucketPolicy": self.bucket_policy,
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig": self.bucket_replication,
            "aws:eks/cluster:Cluster": self.eks_cluster,
            "aws:ec2/launchTemplate:LaunchTemplate": self.launch_template,
            "aws:apigateway/restApi:RestApi": self.rest_api,
            "aws:apigateway/resource:Resource": self.api_resource,
            "aws:apigateway/authorizer:Authorizer": self.authorizer,
            "aws:apigateway/method:Method": self.method,
            "aws:apigateway/integration:Integration": self.integration,
            "aws:apigateway/deployment:Deployment": self.api_deployment,
            "aws:apigateway/stage:Stage": self.stage,
            "aws:apigateway/methodSettings:MethodSettings": self.method_settings,
            "aws:wafv2/webAcl:WebAcl": self.web_acl,
            "aws:wafv2/webAclAssociation:WebAclAssociation": self.waf_association,
            "aws:budgets/budget:Budget": self.budget,
        }
        for resource in _in_dependency_order(plan["resources"]):
            make = makers.get(resource["type"])
            if make is None:
                continue
            inputs = self.translation(resource["inputs"])
            resource_id, outputs = make(resource, inputs, self.regions[resource["urn"]])
            record = {
                "urn": resource["urn"],
                "type": resource["type"],
                "id": resource_id,
                "inputs": inputs,
                "outputs": {**inputs, **outputs},
            }
            self.translation.learn(resource, record)
            self.records.append(record)
            self.by_name[resource["name"]] = record

    def state(self) -> dict[str, Any]:
        return {"version": 3, "deployment": {"manifest": {}, "resources": self.records}}

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.state()))
        return path

    # --- makers: (plan resource, translated inputs, region) -> (id, outputs) ---------------------

    def kms_key(self, resource, inputs, region):
        kms = clients("kms", region)
        key = kms.create_key(
            Policy=inputs["policy"],
            Description=inputs.get("description", ""),
            MultiRegion=bool(inputs.get("multiRegion")),
        )["KeyMetadata"]
        if inputs.get("enableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return key["KeyId"], {"arn": key["Arn"], "keyId": key["KeyId"]}

    def log_group(self, resource, inputs, region):
        logs = clients("logs", region)
        name = inputs["name"]
        logs.create_log_group(logGroupName=name, **({"kmsKeyId": inputs["kmsKeyId"]} if "kmsKeyId" in inputs else {}))
        if "retentionInDays" in inputs:
            logs.put_retention_policy(logGroupName=name, retentionInDays=inputs["retentionInDays"])
        return name, {"arn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"}

    def bucket(self, resource, inputs, region):
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        clients("s3", region).create_bucket(Bucket=inputs["bucket"], **extra)
        return inputs["bucket"], {"arn": f"arn:aws:s3:::{inputs['bucket']}"}

    def bucket_versioning(self, resource, inputs, region):
        status = inputs["versioningConfiguration"]["status"]
        clients("s3", region).put_bucket_versioning(Bucket=inputs["bucket"], VersioningConfiguration={"Status": status})
        return inputs["bucket"], {}

    def bucket_encryption(self, resource, inputs, region):
        rules = []
        for rule in inputs["rules"]:
            default = rule["applyServerSideEncryptionByDefault"]
            by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
            if "kmsMasterKeyId" in default:
                by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
            rules.append(
                {
                    "ApplyServerSideEncryptionByDefault": by_default,
                    "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled")),
                }
            )
        clients("s3", region).put_bucket_encryption(
            Bucket=inputs["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
        )
        return inputs["bucket"], {}

    def bucket_public_access(self, resource, inputs, region):
        keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        config = {key: bool(inputs.get(key[0].lower() + key[1:])) for key in keys}
        clients("s3", region).put_public_access_block(Bucket=inputs["bucket"], PublicAccessBlockConfiguration=config)
        return inputs["bucket"], {}

    def bucket_policy(self, resource, inputs, region):
        clients("s3", region).put_bucket_policy(Bucket=inputs["bucket"], Policy=inputs["policy"])
        return inputs["bucket"], {}

    def bucket_replication(self, resource, inputs, region):
        rules = []
        for rule in inputs["rules"]:
            destination = rule["destination"]
            rules.append(
                {
                    "ID": rule["id"],
                    "Priority": rule.get("priority", 0),
                    "Status": rule["status"],
                    "Filter": {"Prefix": rule["filter"]["prefix"]},
                    "DeleteMarkerReplication": {"Status": rule["deleteMarkerReplication"]["status"]},
                    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                    "Destination": {
                        "Bucket": destination["bucket"],
                        "StorageClass": destination["storageClass"],
                        "EncryptionConfiguration": {
                            "ReplicaKmsKeyID": destination["encryptionConfiguration"]["replicaKmsKeyId"]
                        },
                    },
                }
            )
        clients("s3", region).put_bucket_replication(
            Bucket=inputs["bucket"], ReplicationConfiguration={"Role": inputs["role"], "Rules": rules}
        )
        return inputs["bucket"], {}

    def eks_cluster(self, resource, inputs, region):
        vpc = inputs["vpcConfig"]
        cluster = clients("eks", region).create_cluster(
            name=inputs["name"],
            roleArn=inputs["roleArn"],
            version=inputs["version"],
            resourcesVpcConfig={
                "subnetIds": vpc["subnetIds"],
                "endpointPublicAccess": vpc["endpointPublicAccess"],
                "endpointPrivateAccess": vpc["endpointPrivateAccess"],
            },
            logging={"clusterLogging": [{"types": inputs["enabledClusterLogTypes"], "enabled": True}]},
            encryptionConfig=[
                {"resources": c["resources"], "provider": {"keyArn": c["provider"]["keyArn"]}}
                for c in ([inputs["encryptionConfig"]] if isinstance(inputs["encryptionConfig"], dict) else [])
            ],
        )["cluster"]
        return inputs["name"], {"arn": cluster["arn"]}

    def launch_template(self, resource, inputs, region):
        metadata = inputs["metadataOptions"]
        devices = [
            {
                "DeviceName": d["deviceName"],
                "Ebs": {
                    "Encrypted": _bool(d["ebs"]["encrypted"]),
                    "VolumeSize": d["ebs"]["volumeSize"],
                    "VolumeType": d["ebs"]["volumeType"],
                    "KmsKeyId": d["ebs"]["kmsKeyId"],
                },
            }
            for d in inputs.get("blockDeviceMappings", [])
        ]
        template = clients("ec2", region).create_launch_template(
            LaunchTemplateName=resource["name"],
            LaunchTemplateData={
                "MetadataOptions": {
                    "HttpTokens": metadata["httpTokens"],
                    "HttpEndpoint": metadata["httpEndpoint"],
                    "HttpPutResponseHopLimit": metadata["httpPutResponseHopLimit"],
                },
                "BlockDeviceMappings": devices,
            },
        )["LaunchTemplate"]
        return template["LaunchTemplateId"], {"latestVersion": 1}

    def rest_api(self, resource, inputs, region):
        api = clients("apigateway", region).create_rest_api(name=inputs["name"])
        return api["id"], {"rootResourceId": api["rootResourceId"]}

    def api_resource(self, resource, inputs, region):
        created = clients("apigateway", region).create_resource(
            restApiId=inputs["restApi"], parentId=inputs["parentId"], pathPart=inputs["pathPart"]
        )
        return created["id"], {}

    def authorizer(self, resource, inputs, region):
        created = clients("apigateway", region).create_authorizer(
            restApiId=inputs["restApi"],
            name=inputs["name"],
            type=inputs["type"],
            authorizerUri=inputs["authorizerUri"],
            identitySource=inputs["identitySource"],
        )
        return created["id"], {}

    def method(self, resource, inputs, region):
        extra = {"authorizerId": inputs["authorizerId"]} if "authorizerId" in inputs else {}
        clients("apigateway", region).put_method(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            authorizationType=inputs["authorization"],
            apiKeyRequired=bool(inputs.get("apiKeyRequired")),
            **extra,
        )
        return f"agm-{inputs['restApi']}-{inputs['resourceId']}-{inputs['httpMethod']}", {}

    def integration(self, resource, inputs, region):
        clients("apigateway", region).put_integration(
            restApiId=inputs["restApi"],
            resourceId=inputs["resourceId"],
            httpMethod=inputs["httpMethod"],
            type=inputs["type"],
            integrationHttpMethod=inputs["integrationHttpMethod"],
            uri=inputs["uri"],
        )
        return f"agi-{inputs['restApi']}-{inputs['resourceId']}-{inputs['httpMethod']}", {}

    def api_deployment(self, resource, inputs, region):
        created = clients("apigateway", region).create_deployment(restApiId=inputs["restApi"])
        return created["id"], {}

    def stage(self, resource, inputs, region):
        apigateway = clients("apigateway", region)
        apigateway.create_stage(
            restApiId=inputs["restApi"],
            stageName=inputs["stageName"],
            deploymentId=inputs["deployment"],
            tracingEnabled=bool(inputs.get("xrayTracingEnabled")),
        )
        logs = inputs["accessLogSettings"]
        apigateway.update_stage(
            restApiId=inputs["restApi"],
            stageName=inputs["stageName"],
            patchOperations=[
                {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": logs["destinationArn"]},
                {"op": "replace", "path": "/accessLogSettings/format", "value": logs["format"]},
            ],
        )
        arn = f"arn:aws:apigateway:{region}::/restapis/{inputs['restApi']}/stages/{inputs['stageName']}"
        return f"ags-{inputs['restApi']}-{inputs['stageName']}", {"arn": arn}

    SETTING_PATHS = {
        "metricsEnabled": "metrics/enabled",
        "loggingLevel": "logging/loglevel",
        "dataTraceEnabled": "logging/dataTrace",
        "throttlingBurstLimit": "throttling/burstLimit",
        "throttlingRateLimit": "throttling/rateLimit",
    }

    def method_settings(self, resource, inputs, region):
        operations = [
            {
                "op": "replace",
                "path": f"/{inputs['methodPath']}/{self.SETTING_PATHS[key]}",
                "value": str(value).lower() if isinstance(value, bool) else str(value),
            }
            for key, value in inputs["settings"].items()
        ]
        clients("apigateway", region).update_stage(
            restApiId=inputs["restApi"], stageName=inputs["stageName"], patchOperations=operations
        )
        return f"{inputs['restApi']}-{inputs['stageName']}-{inputs['methodPath']}", {}

    @staticmethod
    def _waf_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
        # Where the WAF API's member name is not the provider's with its first letter raised.
        renamed = {
            "cloudwatchMetricsEnabled": "CloudWatchMetricsEnabled",
            "ipSetReferenceStatement": "IPSetReferenceStatement",
            "arn": "ARN",
        }

        def upper(value: Any) -> Any:
            if isinstance(value, dict):
                return {renamed.get(k, k[0].upper() + k[1:]): upper(v) for k, v in value.items()}
            if isinstance(value, list):
                return [upper(v) for v in value]
            return value

        return upper(dict(rule))

    def web_acl(self, resource, inputs, region):
        acl = clients("wafv2", region).create_web_acl(
            Name=inputs["name"],
            Scope=inputs["scope"],
            DefaultAction={k[0].upper() + k[1:]: v for k, v in inputs["defaultAction"].items()},
            Rules=[self._waf_rule(r) for r in inputs["rules"]],
            VisibilityConfig=self._waf_rule(inputs["visibilityConfig"]),
        )["Summary"]
        return acl["Id"], {"arn": acl["ARN"]}

    def waf_association(self, resource, inputs, region):
        clients("wafv2", region).associate_web_acl(WebACLArn=inputs["webAclArn"], ResourceArn=inputs["resourceArn"])
        return f"{inputs['webAclArn']},{inputs['resourceArn']}", {}

    def budget(self, resource, inputs, region):
        notifications = [
            {
                "Notification": {
                    "NotificationType": n["notificationType"],
                    "ComparisonOperator": n["comparisonOperator"],
                    "Threshold": float(n["threshold"]),
                    "ThresholdType": n["thresholdType"],
                },
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": a} for a in n["subscriberEmailAddresses"]],
            }
            for n in inputs["notifications"]
        ]
        clients("budgets", "us-east-1").create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": inputs["name"],
                "BudgetLimit": {"Amount": inputs["limitAmount"], "Unit": inputs["limitUnit"]},
                "TimeUnit": inputs["timeUnit"],
                "BudgetType": inputs["budgetType"],
            },
            NotificationsWithSubscribers=notifications,
        )
        return f"{ACCOUNT}:{inputs['name']}", {}


def run_audit(plan, state: Mapping[str, Any]) -> list[audit.Finding]:
    records = {r["urn"]: r for r in state["deployment"]["resources"]}
    return list(audit.Audit(plan, records, clients, ACCOUNT).run())


def drifted(found: list[audit.Finding]) -> list[str]:
    return [f.line() for f in found if f.status == "drift"]


# --- the deployment as planned -------------------------------------------------------------------


def test_prod_deployed_as_planned_audits_clean(aws, prod_plan, tmp_path, capsys):
    deployment = Deployment(prod_plan)
    state = deployment.write(tmp_path / "state.json")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(prod_plan))
    with contextlib.ExitStack() as stack:
        stack.enter_context(_boto3_is(clients))
        code = main(["audit", "--stack", "prod", "--plan", str(plan), "--state", str(state)])
    out = capsys.readouterr().out
    lines = out.splitlines()
    audited = [r for r in prod_plan["resources"] if r["type"] in audit.Audit(prod_plan, {}, clients).checks]
    assert code == 0, out
    assert lines[0] == "llm-serving audit — stack prod"
    assert lines[-1] == f"NO DRIFT: 0 of {len(audited)} resources drifted from the plan"
    assert len(lines) == len(audited) + 2 and all(line.startswith("ok ") for line in lines[1:-1])
    # Every kind the command knows is in prod's plan, so this run exercised each check.
    assert {r["type"] for r in audited} == set(audit.Audit(prod_plan, {}, clients).checks)


@contextlib.contextmanager
def _boto3_is(factory) -> Iterator[None]:
    original = audit.boto3_clients
    audit.boto3_clients = lambda: factory
    try:
        yield
    finally:
        audit.boto3_clients = original


# --- each thing a console click can undo ---------------------------------------------------------


def _key_id(d: Deployment, name: str) -> str:
    return d.by_name[name]["id"]


def _api(d: Deployment, region: str) -> str:
    return d.by_name[f"{region}-gateway-api"]["id"]


def _resource_of(d: Deployment, method_name: str) -> Mapping[str, Any]:
    return d.by_name[method_name]["inputs"]


WEIGHTS = "llm-serving-prod-weights-us-east-1-0f1e2d3c"
EU_WEIGHTS = "llm-serving-prod-weights-eu-west-1-0f1e2d3c"
STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/{api}/stages/v1"
CHAT = "us-east-1-gateway-llama-3-70b-instruct-chat-completions"


def _policy_without_statement(d: Deployment, name: str, sid: str) -> str:
    document = json.loads(d.by_name[name]["inputs"]["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
    return json.dumps(document)


BREAKS: dict[str, tuple[Callable[[Deployment], None], str]] = {
    "key rotation disabled": (
        lambda d: clients("kms", "us-east-1").disable_key_rotation(KeyId=_key_id(d, "prod-cost-anomaly-key")),
        "drift us-east-1  Key prod-cost-anomaly-key: enableKeyRotation: expected true, found false",
    ),
    "key policy statement removed": (
        lambda d: clients("kms", "us-east-1").put_key_policy(
            KeyId=_key_id(d, "prod-cost-anomaly-key"),
            PolicyName="default",
            Policy=_policy_without_statement(d, "prod-cost-anomaly-key", "AllowCostAnomalyDetectionToEncryptAlerts"),
        ),
        "drift us-east-1  Key prod-cost-anomaly-key: policy Statement[1].Action[0]: expected kms:Decrypt, found (none)",
    ),
    "bucket encryption removed": (
        lambda d: clients("s3", "us-east-1").delete_bucket_encryption(Bucket=WEIGHTS),
        "drift us-east-1  BucketServerSideEncryptionConfiguration us-east-1-weights-bucket-sse: sseAlgorithm: "
        "expected aws:kms, found (none); kmsMasterKeyId: expected {key}, found (none); "
        "bucketKeyEnabled: expected true, found false",
    ),
    "versioning suspended": (
        lambda d: clients("s3", "us-east-1").put_bucket_versioning(
            Bucket=WEIGHTS, VersioningConfiguration={"Status": "Suspended"}
        ),
        "drift us-east-1  BucketVersioning us-east-1-weights-bucket-versioning: versioningConfiguration.status: "
        "expected Enabled, found Suspended",
    ),
    "public access block relaxed": (
        lambda d: clients("s3", "eu-west-1").put_public_access_block(
            Bucket=EU_WEIGHTS,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        ),
        "drift eu-west-1  BucketPublicAccessBlock eu-west-1-weights-bucket-public-access-block: blockPublicPolicy: "
        "expected true, found false",
    ),
    "TLS-only policy deleted": (
        lambda d: clients("s3", "us-east-1").delete_bucket_policy(Bucket=WEIGHTS),
        "drift us-east-1  BucketPolicy us-east-1-weights-bucket-policy: policy: expected {policy}, found (none)",
    ),
    "replication removed": (
        lambda d: clients("s3", "us-east-1").delete_bucket_replication(Bucket=WEIGHTS),
        "drift us-east-1  BucketReplicationConfig prod-weights-replication-config: role: expected "
        "arn:aws:iam::123456789012:role/prod-weights-replication-role, found (none); rules llama-3-8b-instruct-to-eu-"
        "west-1.bucket: expected arn:aws:s3:::llm-serving-prod-weights-eu-west-1-0f1e2d3c, found (none)",
    ),
    "EKS endpoint made public": (
        lambda d: clients("eks", "eu-west-1").update_cluster_config(
            name="llm-serving-prod",
            resourcesVpcConfig={"endpointPublicAccess": True, "endpointPrivateAccess": True},
        ),
        "drift eu-west-1  Cluster eu-west-1-cluster-eks: vpcConfig.endpointPublicAccess: expected false, found true",
    ),
    "EKS audit log turned off": (
        lambda d: clients("eks", "us-east-1").update_cluster_config(
            name="llm-serving-prod",
            logging={
                "clusterLogging": [
                    {"types": ["api", "authenticator", "controllerManager", "scheduler"], "enabled": True},
                    {"types": ["audit"], "enabled": False},
                ]
            },
        ),
        "drift us-east-1  Cluster us-east-1-cluster-eks: enabledClusterLogTypes: missing audit",
    ),
    "IMDSv1 allowed by a new latest version": (
        lambda d: clients("ec2", "us-east-1").create_launch_template_version(
            LaunchTemplateId=d.by_name["us-east-1-gpu-a10g-lt"]["id"],
            LaunchTemplateData={"MetadataOptions": {"HttpTokens": "optional"}},  # moto ignores SourceVersion
        ),
        "drift us-east-1  LaunchTemplate us-east-1-gpu-a10g-lt: metadataOptions.httpTokens (v2): expected required, "
        "found optional; metadataOptions.httpEndpoint (v2): expected enabled, found (none); "
        "metadataOptions.httpPutResponseHopLimit (v2): expected {hops}, found (none); "
        "blockDeviceMappings[/dev/xvda].ebs.encrypted (v2): expected true, found false",
    ),
    "IMDSv1 allowed by a new default version": (
        lambda d: _new_default_version(
            d, "us-east-1-gpu-h100-lt", {"MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"}}
        ),
        "drift us-east-1  LaunchTemplate us-east-1-gpu-h100-lt: metadataOptions.httpTokens: expected required, "
        "found optional; metadataOptions.httpPutResponseHopLimit: expected {hops}, found (none); "
        "blockDeviceMappings[/dev/xvda].ebs.encrypted: expected true, found false",
    ),
    "WAF disassociated": (
        lambda d: clients("wafv2", "us-east-1").disassociate_web_acl(
            ResourceArn=STAGE_ARN.format(api=_api(d, "us-east-1"))
        ),
        "drift us-east-1  WebAclAssociation us-east-1-gateway-waf-association-0: webAclArn: "
        "expected {acl}, found (none)",
    ),
    "WAF rule removed": (
        lambda d: _drop_waf_rule(d, "us-east-1-gateway-waf-acl", "AWSManagedRulesKnownBadInputsRuleSet"),
        "drift us-east-1  WebAcl us-east-1-gateway-waf-acl: rules AWSManagedRulesKnownBadInputsRuleSet[0]: "
        "expected 1, found (none)",
    ),
    "access logging removed": (
        lambda d: clients("apigateway", "us-east-1").update_stage(
            restApiId=_api(d, "us-east-1"),
            stageName="v1",
            patchOperations=[{"op": "remove", "path": "/accessLogSettings"}],
        ),
        "drift us-east-1  Stage us-east-1-gateway-stage: accessLogSettings.destinationArn: "
        "expected {logs}, found (none)",
    ),
    "execution logging off": (
        lambda d: clients("apigateway", "us-east-1").update_stage(
            restApiId=_api(d, "us-east-1"),
            stageName="v1",
            patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}],
        ),
        "drift us-east-1  MethodSettings us-east-1-gateway-method-settings: settings.loggingLevel: expected ERROR, "
        "found OFF",
    ),
    "authorizer dropped from a method": (
        lambda d: _drop_authorizer(d, CHAT),
        f"drift us-east-1  Method {CHAT}: authorization: expected CUSTOM, found NONE; authorizerId: expected "
        "{authorizer}, found (none); apiKeyRequired: expected true, found false",
    ),
    "log group retention shortened": (
        lambda d: clients("logs", "us-east-1").put_retention_policy(
            logGroupName="/aws/eks/llm-serving-prod/cluster", retentionInDays=1
        ),
        "drift us-east-1  LogGroup us-east-1-cluster-control-plane-logs: retentionInDays: "
        "expected {retention}, found 1",
    ),
    "log group recreated without its key": (
        lambda d: _recreate_log_group("/aws/eks/llm-serving-prod/cluster"),
        "drift us-east-1  LogGroup us-east-1-cluster-control-plane-logs: kmsKeyId: expected {log_key}, found (none); "
        "retentionInDays: expected {retention}, found (none)",
    ),
    "budget deleted": (
        lambda d: clients("budgets", "us-east-1").delete_budget(
            AccountId=ACCOUNT, BudgetName="llm-serving-prod-monthly"
        ),
        "drift us-east-1  Budget prod-budget-monthly: expected it to exist, found none (NotFoundException)",
    ),
}


def _recreate_log_group(name: str) -> None:
    logs = clients("logs", "us-east-1")
    logs.delete_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=name)


def _new_default_version(d: Deployment, name: str, data: dict[str, Any]) -> None:
    ec2 = clients("ec2", "us-east-1")
    template = d.by_name[name]["id"]
    version = ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData=data)
    number = str(version["LaunchTemplateVersion"]["VersionNumber"])
    ec2.modify_launch_template(LaunchTemplateId=template, DefaultVersion=number)


def _drop_waf_rule(d: Deployment, name: str, rule: str) -> None:
    wafv2 = clients("wafv2", "us-east-1")
    record = d.by_name[name]
    acl = wafv2.get_web_acl(Name=record["inputs"]["name"], Scope="REGIONAL", Id=record["id"])
    web_acl = acl["WebACL"]
    wafv2.update_web_acl(
        Name=web_acl["Name"],
        Scope="REGIONAL",
        Id=web_acl["Id"],
        DefaultAction=web_acl["DefaultAction"],
        Rules=[r for r in web_acl["Rules"] if r["Name"] != rule],
        VisibilityConfig=web_acl["VisibilityConfig"],
        LockToken=acl["LockToken"],
    )


def _drop_authorizer(d: Deployment, method: str) -> None:
    inputs = _resource_of(d, method)
    apigateway = clients("apigateway", "us-east-1")
    apigateway.delete_method(restApiId=inputs["restApi"], resourceId=inputs["resourceId"], httpMethod="POST")
    apigateway.put_method(
        restApiId=inputs["restApi"], resourceId=inputs["resourceId"], httpMethod="POST", authorizationType="NONE"
    )


def _expected_values(d: Deployment) -> dict[str, Any]:
    log_group = d.by_name["us-east-1-cluster-control-plane-logs"]["inputs"]
    return {
        "key": d.by_name["us-east-1-weights-bucket-sse"]["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"][
            "kmsMasterKeyId"
        ],
        "policy": json.dumps(
            audit.policy_document(d.by_name["us-east-1-weights-bucket-policy"]["inputs"]["policy"]),
            sort_keys=True,
            separators=(",", ":"),
        ),
        "hops": d.by_name["us-east-1-gpu-h100-lt"]["inputs"]["metadataOptions"]["httpPutResponseHopLimit"],
        "acl": d.by_name["us-east-1-gateway-waf-acl"]["outputs"]["arn"],
        "logs": d.by_name["us-east-1-gateway-stage"]["inputs"]["accessLogSettings"]["destinationArn"],
        "authorizer": d.by_name["us-east-1-gateway-authorizer"]["id"],
        "retention": log_group["retentionInDays"],
        "log_key": log_group["kmsKeyId"],
    }


@pytest.mark.parametrize("what", sorted(BREAKS))
def test_each_thing_undone_on_the_account_is_found_with_the_exact_line(aws, prod_plan, what):
    deployment = Deployment(prod_plan)  # audits clean: test_prod_deployed_as_planned_audits_clean
    state = deployment.state()
    undo, line = BREAKS[what]
    undo(deployment)
    assert drifted(run_audit(prod_plan, state)) == [line.format(**_expected_values(deployment))]


def test_a_resource_missing_from_the_state_is_drift(aws, prod_plan):
    state = Deployment(prod_plan).state()
    state["deployment"]["resources"] = [
        r for r in state["deployment"]["resources"] if not r["urn"].endswith("::prod-budget-monthly")
    ]
    assert drifted(run_audit(prod_plan, state)) == [
        "drift us-east-1  Budget prod-budget-monthly: in the plan, not in the stack's state (not deployed, or deleted "
        "from it)"
    ]


def test_a_call_the_credentials_may_not_make_is_drift_that_says_so(aws, prod_plan, monkeypatch):
    from botocore.exceptions import ClientError

    state = Deployment(prod_plan).state()

    def refusing(service, region):
        client = clients(service, region)
        if service == "budgets":

            def denied(**_):
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeBudget")

            client.describe_budget = denied
        return client

    records = {r["urn"]: r for r in state["deployment"]["resources"]}
    lines = drifted(list(audit.Audit(prod_plan, records, refusing, ACCOUNT).run()))
    assert lines == [
        "drift us-east-1  Budget prod-budget-monthly: cannot check: AccessDeniedException (An error occurred "
        "(AccessDeniedException) when calling the DescribeBudget operation: no)"
    ]


# --- the command line ----------------------------------------------------------------------------


def test_json_output_and_exit_1_on_drift(aws, prod_plan, tmp_path, capsys):
    deployment = Deployment(prod_plan)
    state = deployment.write(tmp_path / "state.json")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(prod_plan))
    clients("s3", "us-east-1").delete_bucket_policy(Bucket=WEIGHTS)
    with _boto3_is(clients):
        code = main(["audit", "--stack", "prod", "--plan", str(plan), "--state", str(state), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["drift"] is True and document["stack"] == "prod"
    [finding] = [f for f in document["findings"] if f["status"] == "drift"]
    assert (finding["resource"], finding["type"]) == (
        "us-east-1-weights-bucket-policy",
        "aws:s3/bucketPolicy:BucketPolicy",
    )


def _usage_error(capsys, *argv: str) -> str:
    assert main(["audit", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return captured.err.strip()


def test_bad_input_is_one_line_exit_2(tmp_path, capsys, prod_plan, monkeypatch):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(prod_plan))
    assert _usage_error(capsys, "--stack", "prod", "--plan", str(plan), "--state", str(tmp_path / "none.json")) == (
        f"llmstack audit: error: {tmp_path / 'none.json'}: no such file (write it with: pulumi stack export --stack S "
        f"--file {tmp_path / 'none.json'})"
    )
    (tmp_path / "bad.json").write_text('{"deployment": {}}')
    assert _usage_error(capsys, "--stack", "prod", "--plan", str(plan), "--state", str(tmp_path / "bad.json")) == (
        f"llmstack audit: error: {tmp_path / 'bad.json'}: not a `pulumi stack export` JSON (no deployment.resources "
        "with urns)"
    )
    assert _usage_error(capsys, "--stack", "dev", "--plan", str(plan), "--state", str(tmp_path / "bad.json")) == (
        f"llmstack audit: error: {plan}: a plan of stack 'prod', not 'dev'"
    )
    monkeypatch.setattr(audit.shutil, "which", lambda name: None)
    assert _usage_error(capsys, "--stack", "prod", "--plan", str(plan)) == (
        "llmstack audit: error: pulumi CLI not found: pass --state FILE (from `pulumi stack export --stack S --file "
        "FILE`)"
    )
    monkeypatch.setattr(audit, "project_root", lambda: tmp_path)
    assert _usage_error(capsys, "--stack", "prod") == (
        f"llmstack audit: error: {tmp_path / 'build' / 'prod' / 'plan.json'}: no such file; run `llmstack plan "
        "--stack prod` first or pass --plan"
    )


# --- the IAM policy it needs ---------------------------------------------------------------------


def test_the_policy_allows_every_call_the_command_makes_and_nothing_else():
    needed = {iam_action(service, operation) for service, operation in calls_in_code(audit)}
    assert len(needed) >= 13  # the scan found the calls, not nothing
    assert allowed_actions(POLICY) == needed


def test_the_policy_names_real_actions_and_only_reads():
    assert list(findings(POLICY)) == []
    assert all(
        a == "apigateway:GET" or a.split(":")[1].startswith(("Describe", "Get", "List", "View"))
        for a in allowed_actions(POLICY)
    )


def test_the_scan_sees_every_call_a_full_run_makes(aws, prod_plan):
    state = Deployment(prod_plan).state()
    made: set[tuple[str, str]] = set()
    cache: dict[tuple[str, str], Any] = {}

    def recording(service, region):
        if (service, region) not in cache:
            client = clients(service, region)
            client.meta.events.register("before-call", lambda model, s=service, **_: made.add((s, model.name)))
            cache[(service, region)] = client
        return cache[(service, region)]

    records = {r["urn"]: r for r in state["deployment"]["resources"]}
    assert drifted(list(audit.Audit(prod_plan, records, recording, ACCOUNT).run())) == []
    assert made and made <= calls_in_code(audit)
    assert made == calls_in_code(audit)  # and a clean run makes every one of them


def test_without_state_it_reads_pulumi_stack_export_and_names_its_failure(
    aws, prod_plan, tmp_path, capsys, monkeypatch
):
    import subprocess

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(prod_plan))
    exported = json.dumps(Deployment(prod_plan).state())
    calls = []

    def pulumi(argv, **_):
        calls.append(argv)
        failing = "--stack" in argv and argv[-1] == "dev"
        stderr = "error: no stack named 'dev' found\n  (did you log in?)" if failing else ""
        return subprocess.CompletedProcess(argv, 255 if failing else 0, "" if failing else exported, stderr)

    monkeypatch.setattr(audit.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(audit.subprocess, "run", pulumi)
    monkeypatch.setattr(audit, "project_root", lambda: tmp_path)  # where a written copy would land
    with _boto3_is(clients):
        assert main(["audit", "--stack", "prod", "--plan", str(plan)]) == 0
    assert calls == [["pulumi", "stack", "export", "--stack", "prod"]]
    assert capsys.readouterr().out.splitlines()[-1].startswith("NO DRIFT: 0 of ")
    assert not (tmp_path / "build").exists()  # the export is read from the CLI's output, never written
    prod_plan_as_dev = tmp_path / "dev.json"
    prod_plan_as_dev.write_text(json.dumps({**prod_plan, "stack": "dev"}))
    assert _usage_error(capsys, "--stack", "dev", "--plan", str(prod_plan_as_dev)) == (
        "llmstack audit: error: pulumi stack export --stack dev failed: error: no stack named 'dev' found (did you "
        "log in?)"
    )
