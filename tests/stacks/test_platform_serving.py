"""The composed program's weight storage and model serving: outputs, replication, on-prem servers."""

import re

import kubernetes_validate
import yaml
from conftest import of_type
from crd_schemas import is_custom_resource, validate_custom_resource

from llmstack.manifests import manifest_files
from llmstack.mock_ids import mock_identity
from llmstack.offline import SECRET_PLACEHOLDER


def test_weights_outputs_name_the_primary_bucket_and_key(prod_run):
    assert prod_run.outputs["weights_bucket"] == "llm-serving-prod-weights-us-east-1-0f1e2d3c"
    primary = mock_identity("aws:kms/key:Key", "us-east-1-encryption-weights", {"multiRegion": True})[1]["arn"]
    assert prod_run.outputs["weights_kms_key_arn"] == primary


def test_every_region_has_a_protected_weight_store_in_prod(prod_run, dev_run):
    buckets = of_type(prod_run, "aws:s3/bucket:Bucket")
    assert sorted(b.inputs["bucket"] for b in buckets if "weights-bucket" in b.name) == [
        "llm-serving-prod-weights-eu-west-1-0f1e2d3c",
        "llm-serving-prod-weights-us-east-1-0f1e2d3c",
    ]
    assert all(b.protect for b in buckets)
    assert not any(b.protect for b in of_type(dev_run, "aws:s3/bucket:Bucket"))


def test_primary_replicates_to_the_secondary_only_in_multi_region_stacks(prod_run, dev_run):
    (config,) = of_type(prod_run, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert config.inputs["bucket"] == "llm-serving-prod-weights-us-east-1-0f1e2d3c"
    assert [r["destination"]["bucket"] for r in config.inputs["rules"]] == [
        "arn:aws:s3:::llm-serving-prod-weights-eu-west-1-0f1e2d3c"
    ]
    versionings = {v.urn for v in of_type(prod_run, "aws:s3/bucketVersioning:BucketVersioning")}
    (component,) = of_type(prod_run, "llm-serving:storage:WeightReplication")
    assert versionings <= set(component.dependencies)
    # The component's depends_on does not reach its children: the configuration itself must wait.
    assert versionings <= set(config.dependencies)
    assert of_type(dev_run, "aws:s3/bucketReplicationConfig:BucketReplicationConfig") == []


def test_onprem_models_read_the_primary_bucket_or_sensitive_ones_the_data_centres_store(prod_run):
    deployments = {
        d.inputs["metadata"]["name"]: d
        for d in of_type(prod_run, "kubernetes:apps/v1:Deployment")
        if d.provider.endswith("pulumi:providers:kubernetes::onprem-dc1")
        and d.inputs["metadata"]["namespace"] == "llm-prod"
    }
    assert sorted(deployments) == ["llama-3-8b-instruct", "mistral-7b-private"]
    public = deployments["llama-3-8b-instruct"].inputs["spec"]["template"]["spec"]
    (sync,) = [c for c in public["initContainers"] if c["name"] == "weight-sync"]
    env = {e["name"]: e for e in sync["env"]}
    assert env["WEIGHTS_BUCKET"]["value"] == "llm-serving-prod-weights-us-east-1-0f1e2d3c"
    assert env["AWS_REGION"]["value"] == "us-east-1"
    # Short-lived Roles Anywhere credentials: no key in the pod (tests/stacks/test_roles_anywhere.py).
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_CREDENTIAL_PROCESS" in env
    # Over the private path: the primary region's S3 interface endpoint (tests/components/test_datacentre_link.py).
    assert re.fullmatch(
        r"https://bucket\.vpce-[0-9a-f]{17}-[0-9a-f]{8}\.s3\.us-east-1\.vpce\.amazonaws\.com",
        env["AWS_ENDPOINT_URL_S3"]["value"],
    )
    pod = deployments["mistral-7b-private"].inputs["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["initContainers"][0]["env"]}
    assert env["WEIGHTS_BUCKET"]["value"] == "llm-sensitive-weights"
    assert env["AWS_ENDPOINT_URL_S3"]["value"] == "https://objects.dc1.example.internal"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "sensitive-weights-reader"
    assert pod["volumes"][0]["hostPath"]["path"] == "/mnt/models"
    assert pod["containers"][0]["args"][pod["containers"][0]["args"].index("--quantize") + 1] == "eetq"


def test_every_rendered_manifest_passes_strict_validation(prod_run):
    files = manifest_files([r.to_json() for r in prod_run.resources])
    assert files
    custom = 0
    for text in files.values():
        body = yaml.safe_load(text)
        if body["kind"] == "Secret" and body.get("data") == SECRET_PLACEHOLDER:
            # The LB controller's webhook key pair: a secret input, never in the plan in clear.
            del body["data"]
        if is_custom_resource(body):
            validate_custom_resource(body)
            custom += 1
        else:
            kubernetes_validate.validate(body, "1.35.0", strict=True)  # the stacks' clusters run 1.35
    assert custom  # ScaledObjects, TriggerAuthentications, TargetGroupBindings


def test_onprem_model_servers_admit_only_the_targets_client_networks(prod_run):
    policies = [
        p
        for p in of_type(prod_run, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if p.provider.endswith("::onprem-dc1") and p.inputs["metadata"]["namespace"] == "llm-prod"
    ]
    assert policies
    for policy in policies:
        serving = policy.inputs["spec"]["ingress"][0]
        assert serving["from"] == [{"ipBlock": {"cidr": "10.100.8.0/24"}}]
        assert serving["ports"] == [{"protocol": "TCP", "port": 8080}]
