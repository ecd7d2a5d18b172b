"""On-prem model servers read the weights bucket with IAM Roles Anywhere: no static key anywhere."""

from __future__ import annotations

import json

import pytest
from conftest import error_of, run_stack, stack_values
from cryptography import x509

from components import engines
from components.roles_anywhere import trust_policy
from components.weights import model_server_policy
from stacks.config import parse_platform_config


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod").resources


def one(resources, type_, predicate=lambda r: True):
    (found,) = [r for r in resources if r.type == type_ and predicate(r)]
    return found


def test_the_example_trust_anchor_is_a_ca_certificate():
    pem = stack_values("prod")["datacentre"]["ca_certificate"]
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_trust_anchor_role_and_profile_in_the_primary_region(prod):
    anchor = one(prod, "aws:rolesanywhere/trustAnchor:TrustAnchor")
    assert anchor.inputs["enabled"] is True and anchor.inputs["name"] == "llm-serving-prod-dc1"
    assert anchor.inputs["source"]["sourceType"] == "CERTIFICATE_BUNDLE"
    assert (
        anchor.inputs["source"]["sourceData"]["x509CertificateData"]
        == stack_values("prod")["datacentre"]["ca_certificate"]
    )
    assert anchor.provider.endswith("::aws-us-east-1") or "us-east-1" in anchor.provider
    role = one(prod, "aws:iam/role:Role", lambda r: r.name == "prod-roles-anywhere-dc1-weights-role")
    anchor_arn = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert anchor_arn.startswith("arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/")
    assert json.loads(role.inputs["assumeRolePolicy"]) == trust_policy(anchor_arn, "dc1")
    assert role.inputs["maxSessionDuration"] == 3600
    policy = json.loads(
        one(prod, "aws:iam/rolePolicy:RolePolicy", lambda r: r.name == "prod-roles-anywhere-dc1-weights-policy").inputs[
            "policy"
        ]
    )
    bucket_arn = policy["Statement"][1]["Resource"]
    assert bucket_arn == "arn:aws:s3:::llm-serving-prod-weights-us-east-1-0f1e2d3c"
    assert policy == model_server_policy(bucket_arn, policy["Statement"][2]["Resource"], "us-east-1")
    profile = one(prod, "aws:rolesanywhere/profile:Profile", lambda r: r.name.endswith("-weights-profile"))
    assert profile.inputs["durationSeconds"] == 3600 and profile.inputs["enabled"] is True
    assert len(profile.inputs["roleArns"]) == 1


def test_trust_policy_names_the_anchor_and_the_targets_certificate():
    statement = trust_policy("arn:aws:rolesanywhere:us-east-1:1:trust-anchor/a", "dc1")["Statement"][0]
    assert statement["Principal"] == {"Service": "rolesanywhere.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": "arn:aws:rolesanywhere:us-east-1:1:trust-anchor/a"},
        "StringEquals": {"aws:PrincipalTag/x509Subject/CN": "llm-weights-dc1"},
    }


def test_the_on_prem_pod_runs_the_credential_helper_and_holds_no_key(prod):
    deployment = one(
        prod,
        "kubernetes:apps/v1:Deployment",
        lambda r: r.name == "dc1-llama-3-8b-instruct-deployment",
    )
    pod = deployment.inputs["spec"]["template"]["spec"]
    helper, sync = pod["initContainers"]
    assert helper["name"] == "credential-helper"
    assert helper["image"] == "registry.dc1.example.internal/platform/aws-signing-helper:1.1.1"
    assert helper["command"] == ["cp", "/aws_signing_helper", "/credential-helper/aws_signing_helper"]
    env = {e["name"]: e.get("value") for e in sync["env"]}
    process = env["AWS_CREDENTIAL_PROCESS"]
    assert process.startswith(
        "/credential-helper/aws_signing_helper credential-process --certificate /weights-client-cert/tls.crt "
        "--private-key /weights-client-cert/tls.key --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:"
    )
    assert "--profile-arn arn:aws:rolesanywhere:us-east-1:" in process and "--role-arn arn:aws:iam::" in process
    assert not [e for e in sync["env"] if "secretKeyRef" in json.dumps(e)]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["weights-client-cert"]["secret"] == {"secretName": "weights-client-cert", "defaultMode": 0o440}
    assert {m["name"] for m in sync["volumeMounts"]} >= {"credential-helper", "weights-client-cert"}


def test_the_weight_sync_turns_the_process_into_the_clis_credential_process():
    script = engines.weight_sync_script()
    assert "printf '[default]\\ncredential_process = %s\\n' \"$AWS_CREDENTIAL_PROCESS\" > /tmp/aws-config" in script
    assert "export AWS_CONFIG_FILE=/tmp/aws-config" in script


def test_config_refuses_roles_anywhere_without_its_settings_or_the_ca():
    assert error_of("prod", lambda v: v["onprem_targets"][0].pop("roles_anywhere")) == (
        "onprem_targets[0].roles_anywhere: required with weights_access roles-anywhere (certificate_secret, "
        "helper_image); or set weights_access: static-keys"
    )
    assert error_of("prod", lambda v: v["datacentre"].pop("ca_certificate")) == (
        "onprem_targets[0].weights_access: roles-anywhere needs datacentre.ca_certificate (the trust anchor's CA)"
    )
    assert error_of("prod", lambda v: v["datacentre"].update(ca_certificate="not a certificate")) == (
        "datacentre.ca_certificate: must be one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END "
        "CERTIFICATE-----)"
    )
    assert error_of(
        "prod",
        lambda v: v["onprem_targets"][0]["roles_anywhere"].update(
            helper_image="registry.dc1.example.internal/h:latest"
        ),
    ).startswith("onprem_targets[0].roles_anywhere.helper_image: ")


def test_static_keys_are_an_explicit_choice(tmp_path):
    values = stack_values("prod")
    values["onprem_targets"][0]["weights_access"] = "static-keys"
    values["onprem_targets"][0]["metrics_remote_write"] = False  # its certificate would come from there too
    values["onprem_targets"][0].pop("roles_anywhere")
    config = parse_platform_config(values)
    assert config.onprem_targets[0].weights_access == "static-keys"


def test_the_weight_sync_script_runs_the_cli_with_that_config(tmp_path):
    """Run the real script under sh with a stand-in `aws` that records its config file, and a
    revision whose SHA256SUMS verifies: the CLI sees the credential process as its default profile."""
    import hashlib
    import os
    import subprocess

    bin_dir, weights, home = tmp_path / "bin", tmp_path / "weights", tmp_path / "tmp"
    bin_dir.mkdir()
    home.mkdir()
    payload = b"weights"
    fake_aws = bin_dir / "aws"
    fake_aws.write_text(
        "#!/bin/sh\n"
        f'cat "$AWS_CONFIG_FILE" > {tmp_path}/seen-config\n'
        'dest="$4"; mkdir -p "$dest"\n'
        f"printf 'weights' > \"$dest/model.safetensors\"\n"
        f"printf '{hashlib.sha256(payload).hexdigest()}  model.safetensors\\n' > \"$dest/SHA256SUMS\"\n"
    )
    fake_aws.chmod(0o755)
    script = engines.weight_sync_script().replace("/tmp/aws-config", f"{home}/aws-config")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "WEIGHTS_DIR": str(weights / "m" / "r"),
        "WEIGHTS_BUCKET": "b",
        "WEIGHTS_PREFIX": "models/m/r/",
        "AWS_CREDENTIAL_PROCESS": (
            "/credential-helper/aws_signing_helper credential-process --role-arn arn:aws:iam::1:role/r"
        ),
    }
    subprocess.run(["sh", "-c", script], env=env, check=True, capture_output=True, text=True)
    assert (tmp_path / "seen-config").read_text() == (
        "[default]\ncredential_process = /credential-helper/aws_signing_helper credential-process "
        "--role-arn arn:aws:iam::1:role/r\n"
    )
    assert (weights / "m" / "r" / ".verified").exists()
