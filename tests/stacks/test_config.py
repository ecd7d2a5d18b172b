"""Each validation rule of the stack config, with the exact one-line message it gives."""

from __future__ import annotations

import copy

import pytest
from conftest import error_of, stack_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.config import ConfigError, parse_platform_config


def parse(values):
    return parse_platform_config(values)


def test_committed_stacks_validate():
    dev = parse(stack_values("dev"))
    prod = parse(stack_values("prod"))
    assert dev.environment == "dev" and [r.name for r in dev.regions] == ["us-east-1"]
    assert prod.primary_region.name == "us-east-1"
    assert [r.name for r in prod.secondary_regions] == ["eu-west-1"]
    assert prod.protect is True and dev.protect is False
    assert prod.nat_mode(prod.regions[0]) == "per-az" and dev.nat_mode(dev.regions[0]) == "one"


def set_in(path, value):
    def mutate(values):
        target = values
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def delete(path):
    def mutate(values):
        target = values
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


CASES = {
    # types, ranges, unknown keys
    "min > max": (
        "prod",
        lambda v: v["regions"][1]["node_groups"][0].update(min_nodes=2, max_nodes=1),
        "regions[1].node_groups[0].max_nodes: must be >= min_nodes (2)",
    ),
    "unknown key suggests": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(max_node=3),
        "regions[0].node_groups[0].max_node: unknown key; did you mean 'max_nodes'?",
    ),
    "unknown top-level key lists allowed": (
        "dev",
        set_in(["zzz"], 1),
        "zzz: unknown key; allowed: aws_account_id, budget, datacentre, deploy, deploy_phase, environment, gateway, "
        "log_retention_days, models, onprem_targets, policy, protect_stateful, regions, traffic",
    ),
    "wrong type": ("dev", set_in(["log_retention_days"], "forever"), "log_retention_days: must be an integer"),
    "out of range": ("dev", set_in(["budget", "monthly_usd"], 0), "budget.monthly_usd: must be > 0"),
    "unknown environment": (
        "dev",
        set_in(["environment"], "qa"),
        "environment: must be one of: 'dev', 'staging', 'prod'",
    ),
    "missing required": ("dev", delete(["budget"]), "budget: is required"),
    # regions
    "no primary": (
        "prod",
        lambda v: v["regions"][0].update(primary=False),
        "regions: exactly one region must have primary: true (found 0)",
    ),
    "two primaries": (
        "prod",
        lambda v: v["regions"][1].update(primary=True),
        "regions: exactly one region must have primary: true (found 2)",
    ),
    "duplicate region": (
        "prod",
        lambda v: v["regions"][1].update(
            name="us-east-1", availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"]
        ),
        "regions[1].name: duplicate region 'us-east-1' (also regions[0])",
    ),
    "region outside allowlist": (
        "dev",
        lambda v: v["regions"][0].update(name="ap-south-1", availability_zones=["ap-south-1a", "ap-south-1b"]),
        "regions[0].name: 'ap-south-1' is not in policy.allowed_regions (us-east-1, us-west-2)",
    ),
    "zone of another region": (
        "dev",
        lambda v: v["regions"][0].update(availability_zones=["us-east-1a", "us-west-2b"]),
        "regions[0].availability_zones[1]: 'us-west-2b' is not a zone of us-east-1",
    ),
    "prod needs three zones": (
        "prod",
        lambda v: v["regions"][1].update(availability_zones=["eu-west-1a", "eu-west-1b"]),
        "regions[1].availability_zones: prod needs at least 3 zones",
    ),
    "invalid cidr": (
        "dev",
        lambda v: v["regions"][0].update(vpc_cidr="10.40.0.0/33"),
        "regions[0].vpc_cidr: must be an IPv4 network in CIDR form, e.g. 10.20.0.0/16",
    ),
    "public cidr": (
        "dev",
        lambda v: v["regions"][0].update(vpc_cidr="8.8.0.0/16"),
        "regions[0].vpc_cidr: must be a private (RFC 1918) range",
    ),
    "overlapping cidrs": (
        "prod",
        lambda v: v["regions"][1].update(vpc_cidr="10.20.0.0/17"),
        "regions[1].vpc_cidr: 10.20.0.0/17 overlaps regions[0].vpc_cidr (10.20.0.0/16)",
    ),
    # clusters
    "kubernetes version outside allowlist": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(kubernetes_version="1.27"),
        "regions[0].cluster.kubernetes_version: must be one of policy.allowed_kubernetes_versions: 1.34, 1.35",
    ),
    "kubernetes version without pinned add-ons": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(kubernetes_version="1.34"),
        "regions[0].cluster.kubernetes_version: no pinned EKS add-on versions for 1.34 (components/eks_addons.py); "
        "supported: 1.33, 1.35",
    ),
    "cidrs without a public endpoint": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(public_access_cidrs=["203.0.113.0/24"]),
        "regions[0].cluster.public_access_cidrs: only allowed with public_endpoint: true",
    ),
    "system nodes max below min": (
        "dev",
        lambda v: v["regions"][0]["cluster"]["system_nodes"].update(min_nodes=3, max_nodes=2),
        "regions[0].cluster.system_nodes.max_nodes: must be >= min_nodes (3)",
    ),
    "public endpoint without cidrs": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(public_endpoint=True),
        "regions[0].cluster.public_access_cidrs: required when public_endpoint is true (list of CIDRs)",
    ),
    "public endpoint open to the world": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(public_endpoint=True, public_access_cidrs=["0.0.0.0/0"]),
        "regions[0].cluster.public_access_cidrs[0]: 0.0.0.0/0 is not allowed; list your CIDRs",
    ),
    "admin role not an arn": (
        "dev",
        lambda v: v["regions"][0]["cluster"].update(admin_role_arns=["admin"]),
        "regions[0].cluster.admin_role_arns[0]: must be an IAM role ARN",
    ),
    "kubernetes version not major.minor": (
        "prod",
        lambda v: v["regions"][1]["cluster"].update(kubernetes_version="v1.33"),
        "regions[1].cluster.kubernetes_version: must match ^1\\.\\d{2}$",
    ),
    "prod system nodes": (
        "prod",
        lambda v: v["regions"][0]["cluster"]["system_nodes"].update(min_nodes=1),
        "regions[0].cluster.system_nodes.min_nodes: prod needs >= 2 system nodes",
    ),
    # node groups
    "unknown gpu": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(gpu="a100", instance_type=None),
        "regions[0].node_groups[0].gpu: unknown GPU 'a100'; allowed: a10g, h100",
    ),
    "instance type of another gpu": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(instance_type="p5.48xlarge"),
        "regions[0].node_groups[0].instance_type: 'p5.48xlarge' does not match gpu 'a10g'; "
        "allowed: g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge",
    ),
    "desired outside range": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(desired_nodes=5),
        "regions[0].node_groups[0].desired_nodes: must be between min_nodes (0) and max_nodes (2)",
    ),
    "gpu group above 100 nodes": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(max_nodes=101),
        "regions[0].node_groups[0].max_nodes: must be <= 100",
    ),
    "root volume too small": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][0].update(root_volume_gib=49),
        "regions[0].node_groups[0].root_volume_gib: must be >= 50",
    ),
    "reservation id malformed": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][0].update(capacity_reservation_id="cr-xyz"),
        "regions[0].node_groups[0].capacity_reservation_id: must match ^cr-[0-9a-f]{8,17}$",
    ),
    "reservation without id": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][0].update(
            capacity_type="capacity-reservation", availability_zones=["us-east-1a"]
        ),
        "regions[0].node_groups[0].capacity_reservation_id: required when capacity_type is capacity-reservation",
    ),
    "reservation in several zones": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][0].update(
            capacity_type="capacity-block", capacity_reservation_id="cr-0123456789abcdef0"
        ),
        "regions[0].node_groups[0].availability_zones: a capacity reservation lives in exactly one zone; list it",
    ),
    "gpu group in one zone": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][1].update(availability_zones=["us-east-1a"]),
        "regions[0].node_groups[1].availability_zones: a GPU node group needs at least 2 zones",
    ),
    # on-prem targets
    "target named like a region": (
        "prod",
        lambda v: v["onprem_targets"][0].update(name="us-east-1"),
        "onprem_targets[0].name: 'us-east-1' is already a region or target name",
    ),
    # models
    "unknown node group": (
        "dev",
        lambda v: v["models"][0].update(node_group="h100"),
        "models[0].node_group: no node group 'h100' in us-east-1; allowed: a10g",
    ),
    "unknown region": (
        "dev",
        lambda v: v["models"][0].update(regions=["eu-west-1"]),
        "models[0].regions[0]: unknown region 'eu-west-1'; allowed: us-east-1",
    ),
    "unknown target": (
        "prod",
        lambda v: v["models"][1].update(targets=["dc9"]),
        "models[1].targets[0]: unknown on-prem target 'dc9'; allowed: dc1, dc1-rack2",
    ),
    "sensitive model on a target that forbids it": (
        "prod",
        lambda v: v["onprem_targets"][0].update(allow_sensitive_models=False),
        "models[2].targets[0]: 'dc1' does not allow sensitive models (allow_sensitive_models)",
    ),
    "shards above gpus of a node": (
        "dev",
        lambda v: v["models"][0].update(shards=2),
        "models[0].shards: 2 shards exceed the 1 GPU(s) of one node (models[0].node_group)",
    ),
    "fp8 on a10g": (
        "dev",
        lambda v: v["models"][0].update(quantization="fp8"),
        "models[0].quantization: fp8 needs a GPU with FP8 support (h100); a10g has none (models[0].node_group)",
    ),
    "model does not fit": (
        "dev",
        lambda v: v["models"][0].update(quantization="none", parameters_billion=13, family="llama-2-13b"),
        None,  # message carries the sizing numbers; checked below
    ),
    "unknown quantization": (
        "dev",
        lambda v: v["models"][0].update(quantization="int3"),
        None,
    ),
    "min replicas above max": (
        "prod",
        lambda v: v["models"][0]["autoscaling"].update(min_replicas=5),
        "models[0].autoscaling.max_replicas: must be >= min_replicas (5)",
    ),
    "scale to zero without outside signal": (
        "dev",
        lambda v: v["models"][0]["autoscaling"].update(scale_to_zero_signal="none"),
        "models[0].autoscaling.min_replicas: 0 needs scale_to_zero_signal (gateway-requests): nothing inside a "
        "stopped pod can wake it",
    ),
    "prod keeps a replica": (
        "prod",
        lambda v: v["models"][0]["autoscaling"].update(min_replicas=0, scale_to_zero_signal="gateway-requests"),
        "models[0].autoscaling.min_replicas: prod keeps >= 1 replica per model per region",
    ),
    "total tokens not above input": (
        "dev",
        lambda v: v["models"][0]["tokens"].update(max_total_tokens=4096),
        "models[0].tokens.max_total_tokens: must be > max_input_tokens (4096)",
    ),
    # gateway
    "tenant names unknown model": (
        "dev",
        lambda v: v["gateway"]["tenants"][0].update(models=["gpt-5"]),
        "gateway.tenants[0].models[0]: unknown model 'gpt-5'; allowed: llama-3-8b-instruct",
    ),
    "rate limit not positive": (
        "dev",
        lambda v: v["gateway"]["tenants"][0].update(rate_limit_rps=0),
        "gateway.tenants[0].rate_limit_rps: must be > 0",
    ),
    "body above api gateway limit": (
        "dev",
        lambda v: v["gateway"].update(max_body_kib=20000),
        "gateway.max_body_kib: must be <= 10240 (API Gateway's 10 MB payload limit)",
    ),
    "hosted zone without domain": (
        "dev",
        lambda v: v["gateway"].update(hosted_zone_id="Z0123456789ABC"),
        "gateway.domain_name: required when hosted_zone_id is set",
    ),
    "unknown gpu instance size lists the gpu's sizes": (
        "prod",
        lambda v: v["regions"][0]["node_groups"][0].update(instance_type="p5.4xlarge"),
        "regions[0].node_groups[0].instance_type: unknown instance type 'p5.4xlarge'; allowed for gpu 'h100': "
        "p5.48xlarge",
    ),
    "empty kubernetes allowlist": (
        "dev",
        lambda v: v["policy"].update(allowed_kubernetes_versions=[]),
        "policy.allowed_kubernetes_versions: must have at least 1 item(s)",
    ),
    "kubernetes allowlist entry not a minor version": (
        "dev",
        lambda v: v["policy"].update(allowed_kubernetes_versions=["133"]),
        "policy.allowed_kubernetes_versions[0]: must match ^1\\.\\d{2}$",
    ),
    "on-prem model scaled to zero": (
        "dev",
        lambda v: (
            v.update(
                onprem_targets=[{"name": "dc1", "kubeconfig": "x", "gpu": "a10g", "gpus_per_node": 4, "nodes": 2}]
            ),
            v["models"][0].update(targets=["dc1"]),
        ),
        "models[0].autoscaling.min_replicas: 0 would leave the model stopped on its on-prem targets, "
        "which have no scaler; use >= 1",
    ),
    "cluster log retention not a CloudWatch value": (
        "prod",
        lambda v: v["regions"][0]["cluster"].update(log_retention_days=100),
        "regions[0].cluster.log_retention_days: must be one of the days CloudWatch Logs keeps: "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ),
    "log retention not a CloudWatch value": (
        "prod",
        lambda v: v.update(log_retention_days=100),
        "log_retention_days: must be one of the days CloudWatch Logs keeps: "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ),
    "admin role listed twice": (
        "prod",
        lambda v: v["regions"][0]["cluster"].update(admin_role_arns=["arn:aws:iam::123456789012:role/a"] * 2),
        "regions[0].cluster.admin_role_arns[1]: duplicate role; list each role once (one access entry each)",
    ),
    "archived revision not a commit": (
        "prod",
        lambda v: v["models"][0].update(archived_revisions=["not a revision!"]),
        "models[0].archived_revisions[0]: must match ^[0-9a-f]{40}$",
    ),
    "quantization the engine cannot serve": (
        "prod",
        lambda v: v["models"][0].update(engine="vllm", quantization="eetq"),
        "models[0].quantization: vllm cannot serve 'eetq'; allowed: awq, bf16, bitsandbytes, bitsandbytes-fp4, "
        "bitsandbytes-nf4, fp16, fp8, gptq, none",
    ),
    "too many tenants for the authorizer": (
        "prod",
        lambda v: v["gateway"].update(
            tenants=[{"name": f"tenant-{i}", "models": ["llama-3-8b-instruct"]} for i in range(60)]
        ),
        "gateway.tenants: 60 tenants and their model lists exceed the authorizer's 4000 bytes of Lambda "
        "environment; list fewer",
    ),
    "hosted zone id malformed": (
        "prod",
        lambda v: v["gateway"].update(hosted_zone_id="not a zone!", domain_name="llm.example.com"),
        "gateway.hosted_zone_id: must match ^Z[A-Z0-9]{1,31}$",
    ),
    "system nodes with GPUs": (
        "prod",
        lambda v: v["regions"][0]["cluster"].setdefault("system_nodes", {}).update(instance_type="g5.xlarge"),
        "regions[0].cluster.system_nodes.instance_type: 'g5.xlarge' has GPUs; system nodes need a type without: "
        "m6i.large, m6i.xlarge, m6i.2xlarge",
    ),
    "public endpoint open to every ipv6 address": (
        "prod",
        lambda v: v["regions"][0]["cluster"].update(public_endpoint=True, public_access_cidrs=["::/0"]),
        "regions[0].cluster.public_access_cidrs[0]: ::/0 is not allowed; list your CIDRs",
    ),
    "node group GPU not allowed in the environment": (
        "dev",
        lambda v: v["regions"][0]["node_groups"][0].update(gpu="h100", instance_type="p5.48xlarge"),
        "regions[0].node_groups[0].gpu: 'h100' is not in policy.allowed_gpu_types (a10g)",
    ),
    "on-prem GPU not allowed in the environment": (
        "dev",
        lambda v: v.update(
            onprem_targets=[{"name": "dc1", "kubeconfig": "x", "gpu": "h100", "gpus_per_node": 8, "nodes": 1}]
        ),
        "onprem_targets[0].gpu: 'h100' is not in policy.allowed_gpu_types (a10g)",
    ),
    "budget threshold listed twice": (
        "prod",
        lambda v: v["budget"].update(alert_thresholds_percent=[80, 80]),
        "budget.alert_thresholds_percent: each threshold once",
    ),
    "budget threshold not positive": (
        "prod",
        lambda v: v["budget"].update(alert_thresholds_percent=[-10]),
        "budget.alert_thresholds_percent[0]: must be > 0",
    ),
    # policy
    "root node agent without namespace": (
        "prod",
        lambda v: v["policy"].update(root_node_agents=["kube-system/nvidia-device-plugin", "dcgm-exporter"]),
        "policy.root_node_agents[1]: must match ^[a-z0-9-]+/[a-z0-9.-]+$",
    ),
    "root node agent not lowercase": (
        "dev",
        lambda v: v["policy"].update(root_node_agents=["Kube-System/nvidia-device-plugin"]),
        "policy.root_node_agents[0]: must match ^[a-z0-9-]+/[a-z0-9.-]+$",
    ),
    "allowed kubernetes version not a string": (
        "dev",
        lambda v: v["policy"].update(allowed_kubernetes_versions=["1.33", 1.34]),
        "policy.allowed_kubernetes_versions[1]: must be a string",
    ),
}


@pytest.mark.parametrize("case", [k for k, v in CASES.items() if v[2] is not None])
def test_validation_message(case):
    stack, mutate, expected = CASES[case]
    assert error_of(stack, mutate) == expected


def test_model_that_does_not_fit_names_the_numbers():
    stack, mutate, _ = CASES["model does not fit"]
    message = error_of(stack, mutate)
    assert message.startswith("models[0]: does not fit: ")
    assert "a10g" in message and "GiB" in message


def test_unknown_quantization_lists_allowed():
    stack, mutate, _ = CASES["unknown quantization"]
    message = error_of(stack, mutate)
    assert message.startswith("models[0].quantization: must be one of: none, fp16, bf16")


def test_secure_kubeconfig_is_never_printed():
    values = stack_values("prod")
    values["onprem_targets"][0]["kubeconfig"] = "apiVersion: v1\nclusters: []"
    config = parse(values)
    assert "clusters" not in repr(config.onprem_targets[0])


# Any JSON-like value, placed anywhere in a valid config, is either accepted or rejected with a
# ConfigError — never another exception.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


PROD_PATHS = [p for p in _paths(stack_values("prod")) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PROD_PATHS), value=json_values)
def test_any_value_anywhere_validates_or_raises_config_error(path, value):
    values = copy.deepcopy(stack_values("prod"))
    target = values
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        parse(values)
    except ConfigError as exc:
        assert str(exc).isprintable(), str(exc)


def test_odd_unknown_key_is_quoted_on_one_line():
    values = stack_values("dev")
    values["models"][0]["autoscaling"]["\n"] = 1
    with pytest.raises(ConfigError) as caught:
        parse(values)
    assert str(caught.value).startswith('models[0].autoscaling["\\n"]: unknown key; allowed: ')


@pytest.mark.parametrize("value", ["\n", "eu-\r\nwest-1", "\teu-west-1", "\x1b[31m"])
def test_a_quoted_value_with_control_characters_stays_on_one_line(value):
    values = stack_values("prod")
    values["models"][0]["regions"] = [value]
    with pytest.raises(ConfigError) as caught:
        parse(values)
    message = str(caught.value)
    assert message.startswith("models[0].regions[0]: unknown region '")
    assert message.isprintable()
    assert repr(value)[1:-1] in message
