"""Deploy phases: `foundation` declares the AWS half only, and every resource of it is declared exactly
the same in `all`, so the run that adds the workloads changes nothing the first run created."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, error_of, run_stack

from llmstack.policy_config import in_phase, load_stack_waivers, stack_policy_config
from llmstack.stackfile import load_stack

FIELDS = ("type", "name", "parent", "provider", "protect", "retain_on_delete", "dependencies", "inputs")


def foundation(values):
    values["deploy_phase"] = "foundation"


@pytest.fixture(scope="module", params=["dev", "prod"])
def phases(request):
    return request.param, run_stack(request.param, foundation), run_stack(request.param)


def test_every_foundation_resource_is_in_all_with_identical_registration(phases):
    _, first, whole = phases
    by_urn = {r.urn: r for r in whole.resources}
    assert first.resources
    for resource in first.resources:
        other = by_urn.get(resource.urn)
        assert other is not None, resource.urn
        for field in FIELDS:
            assert getattr(other, field) == getattr(resource, field), (resource.urn, field)
        assert other.property_dependencies == resource.property_dependencies, resource.urn


def test_foundation_declares_no_kubernetes_provider_or_object(phases):
    _, first, whole = phases
    assert [r.urn for r in first.resources if r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes"))] == []
    assert [r for r in whole.resources if r.type == "pulumi:providers:kubernetes"]


def test_foundation_holds_what_the_kubernetes_half_needs_first(phases):
    stack, first, _ = phases
    types = {r.type for r in first.resources}
    assert {
        "aws:ec2/vpc:Vpc",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:codebuild/project:Project",
        "aws:codebuild/webhook:Webhook",
    } <= types
    if stack == "prod":  # replication to eu-west-1 and the runner's path there
        assert {
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        } <= types
    # The front door goes with the workloads it routes to.
    assert not types & {"aws:apigateway/restApi:RestApi", "aws:wafv2/webAcl:WebAcl", "aws:lb/loadBalancer:LoadBalancer"}


def test_all_adds_the_workloads(phases):
    _, first, whole = phases
    added = {r.type for r in whole.resources} - {r.type for r in first.resources}
    assert {
        "kubernetes:apps/v1:Deployment",
        "aws:apigateway/restApi:RestApi",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    } <= added


def test_outputs_name_the_phase_and_the_runner_in_both(phases):
    stack, first, whole = phases
    runner = {"us-east-1": f"llm-serving-{stack}-us-east-1-deploy"}
    assert first.outputs["deploy_phase"] == "foundation" and whole.outputs["deploy_phase"] == "all"
    assert first.outputs["deploy_runner_projects"] == runner == whole.outputs["deploy_runner_projects"]
    assert "tenant_api_keys" not in first.outputs and "tenant_api_keys" in whole.outputs


def test_the_phase_defaults_to_all_and_rejects_other_values():
    assert load_stack("dev", None, ROOT).platform.deploy_phase == "all"
    assert error_of("dev", lambda v: v.__setitem__("deploy_phase", "phase2")) == (
        "deploy_phase: must be one of: 'foundation', 'all'"
    )


def test_the_phase_arrives_as_pulumi_config_sets_it():
    # `pulumi up --config llm-serving:deploy_phase=foundation` hands the program a plain string.
    from pulumi.runtime import config as runtime_config

    from stacks.config import from_pulumi_config

    stackfile = load_stack("dev", None, ROOT)
    values = {k: json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in stackfile.config.items()}
    values["llm-serving:deploy_phase"] = "foundation"
    saved = runtime_config.CONFIG.get()
    runtime_config.CONFIG.set({**values})
    try:
        assert from_pulumi_config().deploy_phase == "foundation"
    finally:
        runtime_config.CONFIG.set(saved)


def test_waivers_of_kubernetes_objects_wait_for_phase_all():
    stackfile = load_stack("prod", None, ROOT)
    waivers = load_stack_waivers(stackfile)
    assert waivers and all(w.resource_type and w.resource_type.startswith("kubernetes:") for w in waivers)
    first = load_stack("prod", None, ROOT, deploy_phase="foundation")
    assert [w for w in waivers if in_phase(w, first.platform)] == []
    assert [w for w in waivers if in_phase(w, stackfile.platform)] == waivers
    assert stack_policy_config(first)["policy-waivers-valid"]["waivers"] == []
    assert len(stack_policy_config(stackfile)["policy-waivers-valid"]["waivers"]) == len(waivers)


def test_plan_of_the_foundation_passes_the_pack(tmp_path):
    out = tmp_path / "foundation"
    result = subprocess.run(
        [sys.executable, "-m", "llmstack", "plan", "--stack", "dev", "--deploy-phase", "foundation", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert plan["outputs"]["deploy_phase"] == "foundation"
    assert plan["policy"]["violations"] == []
    assert not [r for r in plan["resources"] if r["type"].startswith("kubernetes:")]
