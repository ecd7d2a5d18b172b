"""The composed program: providers, regions, tags and the component tree."""

import json

from conftest import of_type, run_stack

from llmstack.mock_ids import mock_identity


def test_one_explicit_aws_provider_per_region_with_default_tags(prod_run):
    providers = of_type(prod_run, "pulumi:providers:aws")
    assert sorted(p.inputs["region"] for p in providers) == ["eu-west-1", "us-east-1"]
    for provider in providers:
        # Provider config is registered as JSON text, the way the engine hands it to the plugin.
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert tags["project"] == "llm-serving"
        assert tags["environment"] == "prod"
        assert tags["managed-by"] == "pulumi"
        assert json.loads(provider.inputs["allowedAccountIds"]) == ["123456789012"]


def test_every_aws_resource_uses_its_regions_provider(prod_run):
    providers = {p.urn: p.inputs["region"] for p in of_type(prod_run, "pulumi:providers:aws")}
    for resource in prod_run.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider in providers, resource.urn


def test_resources_sit_under_their_regional_platform(prod_run):
    regional = {r.urn: r.name for r in of_type(prod_run, "llm-serving:platform:RegionalPlatform")}
    assert sorted(regional.values()) == ["eu-west-1", "us-east-1"]
    vpcs = of_type(prod_run, "aws:ec2/vpc:Vpc")
    assert sorted(v.inputs["cidrBlock"] for v in vpcs) == ["10.20.0.0/16", "10.21.0.0/16"]
    for vpc in vpcs:
        assert vpc.parent and "llm-serving:network:Network" in vpc.parent


def test_secondary_region_replicates_the_primary_weights_key(prod_run):
    keys = {k.name: k for k in of_type(prod_run, "aws:kms/key:Key")}
    assert keys["us-east-1-encryption-weights"].inputs["multiRegion"] is True
    replicas = of_type(prod_run, "aws:kms/replicaKey:ReplicaKey")
    assert [r.name for r in replicas] == ["eu-west-1-encryption-weights"]
    primary = mock_identity("aws:kms/key:Key", "us-east-1-encryption-weights", {"multiRegion": True})[1]["arn"]
    assert replicas[0].inputs["primaryKeyArn"] == primary


def test_prod_protects_keys_and_dev_does_not(prod_run, dev_run):
    assert all(k.protect for k in of_type(prod_run, "aws:kms/key:Key"))
    assert all(k.protect for k in of_type(prod_run, "aws:kms/replicaKey:ReplicaKey"))
    assert not any(k.protect for k in of_type(dev_run, "aws:kms/key:Key"))


def test_nat_per_zone_in_prod_and_one_in_dev(prod_run, dev_run):
    assert len(of_type(prod_run, "aws:ec2/natGateway:NatGateway")) == 6
    assert len(of_type(dev_run, "aws:ec2/natGateway:NatGateway")) == 1


def test_onprem_target_gets_its_own_kubernetes_provider_with_a_secret_kubeconfig(prod_run):
    providers = {p.name: p for p in of_type(prod_run, "pulumi:providers:kubernetes")}
    assert sorted(providers) == ["eu-west-1-cluster-k8s", "onprem-dc1", "us-east-1-cluster-k8s"]
    assert providers["onprem-dc1"].inputs["kubeconfig"] == "[secret]"


def test_budget_follows_the_stack_config():
    def smaller(values):
        values["budget"]["monthly_usd"] = 900
        values["budget"]["alert_thresholds_percent"] = [80, 100]

    run = run_stack("dev", smaller)
    (budget,) = of_type(run, "aws:budgets/budget:Budget")
    assert budget.inputs["limitAmount"] == "900.00"
    assert budget.inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:environment$dev"]}]
    kinds = [(n["threshold"], n["notificationType"]) for n in budget.inputs["notifications"]]
    assert kinds == [(80, "ACTUAL"), (100, "FORECASTED"), (100, "ACTUAL")]


def test_the_program_is_deterministic():
    first = [r.to_json() for r in run_stack("prod").resources]
    second = [r.to_json() for r in run_stack("prod").resources]
    assert first == second
