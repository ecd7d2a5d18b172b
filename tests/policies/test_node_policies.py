"""Node policies: no SSH on node groups or launch templates, IMDSv2 hop 1 for every node, CMK-encrypted launch
template volumes, GPU node groups tainted. A compliant baseline, then each way to violate."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from conftest import policy_resource, resource_violations, stack_violations

from policies.aws.ec2 import launch_template_volumes_cmk
from policies.aws.eks import gpu_node_group_tainted, node_group_disallow_ssh, node_imdsv2_hop_limit

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KEY = "arn:aws:kms:us-east-1:123456789012:key/ebs"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}


def gpu_group(**changes):
    props = {
        "amiType": "AL2023_x86_64_NVIDIA",
        "instanceTypes": ["p5.48xlarge"],
        "labels": {"llm-serving/gpu": "h100", "llm-serving/node-group": "h100"},
        "taints": [GPU_TAINT],
        "launchTemplate": {"id": "lt-id", "version": "1"},
    }
    return {**props, **changes}


def system_group(**changes):
    return {**{"amiType": "AL2023_x86_64_STANDARD", "instanceTypes": ["m6i.xlarge"]}, **changes}


def root_volume(**ebs):
    values = {"volumeSize": 200, "volumeType": "gp3", "encrypted": "true", "kmsKeyId": KEY}
    return [{"deviceName": "/dev/xvda", "ebs": {**values, **ebs}}]


def template(name="gpu-lt", **metadata):
    options = {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1, **metadata}
    options = {k: v for k, v in options.items() if v is not None}
    return policy_resource(LAUNCH_TEMPLATE, name, {"metadataOptions": options, "blockDeviceMappings": root_volume()})


def group_using(lt, name="gpu", **changes):
    return policy_resource(
        NODE_GROUP,
        name,
        gpu_group(**changes),
        dependencies=[lt] if lt else [],
        property_dependencies={"launchTemplate": [lt]} if lt else {},
    )


# --- aws-eks-node-group-disallow-ssh -------------------------------------------------------------


@pytest.mark.parametrize("props", [gpu_group(), system_group(), system_group(remoteAccess=None)])
def test_node_groups_without_remote_access_are_compliant(props):
    assert resource_violations(node_group_disallow_ssh.policy, NODE_GROUP, props) == []


@pytest.mark.parametrize(
    "remote_access",
    [{"ec2SshKey": "ops"}, {"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-1"]}],
)
def test_remote_access_is_a_violation(remote_access):
    props = system_group(remoteAccess=remote_access)
    assert resource_violations(node_group_disallow_ssh.policy, NODE_GROUP, props, name="system") == [
        "node group 'system' opens SSH to its nodes (remoteAccess is set); use SSM Session Manager."
    ]


def test_launch_template_without_a_key_is_compliant():
    assert resource_violations(node_group_disallow_ssh.policy, LAUNCH_TEMPLATE, {"keyName": None}) == []


def test_launch_template_key_name_is_a_violation():
    props = {"keyName": "ops", "metadataOptions": {"httpTokens": "required"}}
    assert resource_violations(node_group_disallow_ssh.policy, LAUNCH_TEMPLATE, props, name="system-lt") == [
        "launch template 'system-lt' puts SSH key pair 'ops' on its nodes (keyName is set); use SSM Session Manager."
    ]


def test_ssh_policy_ignores_other_types():
    props = {"remoteAccess": {"ec2SshKey": "x"}, "keyName": "x"}
    assert resource_violations(node_group_disallow_ssh.policy, "aws:ec2/instance:Instance", props) == []


# --- aws-eks-node-imdsv2-hop-limit-one -----------------------------------------------------------


def imds(resources):
    return stack_violations(node_imdsv2_hop_limit.policy, resources)


def test_node_group_with_imdsv2_hop_one_is_compliant():
    lt = template()
    assert imds([lt, group_using(lt)]) == []


def test_system_node_group_with_imdsv2_hop_one_is_compliant():
    lt = template("system-lt")
    props = system_group(launchTemplate={"id": "system-lt-id", "version": "1"})
    group = policy_resource(NODE_GROUP, "system", props, property_dependencies={"launchTemplate": [lt]})
    assert imds([lt, group]) == []


def test_disabled_imds_is_compliant():
    lt = template(httpEndpoint="disabled", httpTokens=None, httpPutResponseHopLimit=None)
    assert imds([lt, group_using(lt)]) == []


def test_imds_tokens_optional():
    lt = template(httpTokens="optional")
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' does not require IMDSv2 (httpTokens is optional).", lt.urn)
    ]


def test_imds_tokens_unset():
    lt = template(httpTokens=None)
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' does not require IMDSv2 (httpTokens is unset).", lt.urn)
    ]


def test_hop_limit_as_the_engine_sends_it_reads_as_a_whole_number():
    lt = template(httpPutResponseHopLimit=2.0)  # every number reaches the pack as a float
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' allows an IMDS hop limit of 2 (must be <= 1).", lt.urn)
    ]


def test_hop_limit_not_a_number():
    lt = template(httpPutResponseHopLimit="1")
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' sets httpPutResponseHopLimit to '1', not a number (must be <= 1).", lt.urn)
    ]


def test_hop_limit_two():
    lt = template(httpPutResponseHopLimit=2)
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' allows an IMDS hop limit of 2 (must be <= 1).", lt.urn)
    ]


def test_hop_limit_unset():
    lt = template(httpPutResponseHopLimit=None)
    assert imds([lt, group_using(lt)]) == [
        (
            "launch template 'gpu-lt' sets no httpPutResponseHopLimit (AL2023 AMIs default to 2, which reaches pods).",
            lt.urn,
        )
    ]


def test_metadata_options_not_an_object_is_a_violation():
    lt = policy_resource(LAUNCH_TEMPLATE, "odd-lt", {"metadataOptions": ["required"]})
    assert imds([lt]) == [
        ("launch template 'odd-lt' does not require IMDSv2 (httpTokens is unset).", lt.urn),
        (
            "launch template 'odd-lt' sets no httpPutResponseHopLimit (AL2023 AMIs default to 2, which reaches pods).",
            lt.urn,
        ),
    ]


def test_a_launch_template_no_node_group_uses_is_still_checked():
    lt = template("spare-lt", httpPutResponseHopLimit=3)
    assert imds([lt]) == [("launch template 'spare-lt' allows an IMDS hop limit of 3 (must be <= 1).", lt.urn)]


def test_gpu_node_group_without_launch_template():
    group = group_using(None, launchTemplate=None)
    assert imds([group]) == [
        (
            "node group 'gpu' uses no launch template: its IMDS settings cannot be checked "
            "(EKS's default launch template uses hop limit 2).",
            group.urn,
        )
    ]


def test_a_node_group_that_dropped_its_launch_template_input_is_a_violation_despite_the_dependency():
    lt = template("system-lt")
    group = policy_resource(NODE_GROUP, "system", system_group(), property_dependencies={"launchTemplate": [lt]})
    assert imds([lt, group]) == [
        (
            "node group 'system' uses no launch template: its IMDS settings cannot be checked "
            "(EKS's default launch template uses hop limit 2).",
            group.urn,
        )
    ]


def test_system_node_group_without_launch_template():
    group = policy_resource(NODE_GROUP, "system", system_group())
    assert imds([group]) == [
        (
            "node group 'system' uses no launch template: its IMDS settings cannot be checked "
            "(EKS's default launch template uses hop limit 2).",
            group.urn,
        )
    ]


def test_node_group_with_a_launch_template_from_outside_the_stack():
    group = group_using(None)
    assert imds([template(), group]) == [
        (
            "node group 'gpu' uses a launch template not in this stack: its IMDS settings cannot be checked "
            "(EKS's default launch template uses hop limit 2).",
            group.urn,
        )
    ]


def test_system_node_group_on_a_hop_two_template_is_a_violation():
    lt = template("system-lt", httpPutResponseHopLimit=2)
    props = system_group(launchTemplate={"id": "system-lt-id", "version": "1"})
    group = policy_resource(NODE_GROUP, "system", props, property_dependencies={"launchTemplate": [lt]})
    assert imds([lt, group]) == [("launch template 'system-lt' allows an IMDS hop limit of 2 (must be <= 1).", lt.urn)]


def test_imds_policy_ignores_other_types():
    other = policy_resource("aws:ec2/instance:Instance", "vm", {"metadataOptions": {"httpTokens": "optional"}})
    assert imds([other]) == []


# --- aws-ec2-launch-template-volumes-encrypted-with-cmk ------------------------------------------


def volumes(props, name="lt"):
    return resource_violations(launch_template_volumes_cmk.policy, LAUNCH_TEMPLATE, props, name=name)


@pytest.mark.parametrize("encrypted", ["true", True])
def test_cmk_encrypted_root_volume_is_compliant(encrypted):
    assert volumes({"blockDeviceMappings": root_volume(encrypted=encrypted)}) == []


@pytest.mark.parametrize("encrypted", ["false", False, None])
def test_unencrypted_volume(encrypted):
    assert volumes({"blockDeviceMappings": root_volume(encrypted=encrypted)}) == [
        "launch template 'lt': volume /dev/xvda is not encrypted."
    ]


def test_volume_encrypted_with_the_aws_managed_key():
    assert volumes({"blockDeviceMappings": root_volume(kmsKeyId=None)}) == [
        "launch template 'lt': volume /dev/xvda is encrypted with the AWS managed key (no kmsKeyId)."
    ]


@pytest.mark.parametrize("mappings", [None, [], [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]])
def test_launch_template_without_an_ebs_mapping(mappings):
    assert volumes({"blockDeviceMappings": mappings}) == [
        "launch template 'lt' maps no EBS volume: the root volume takes the AMI's defaults, "
        "not encryption with a customer-managed key."
    ]


def test_volumes_arrive_as_read_only_mappings_in_the_pack():
    # The analyzer wraps props in Mapping/Sequence proxies, never dicts and lists.
    mappings = tuple(MappingProxyType({**m, "ebs": MappingProxyType(m["ebs"])}) for m in root_volume())
    assert volumes({"blockDeviceMappings": mappings}) == []


def test_every_ebs_volume_is_checked():
    mappings = root_volume() + [{"deviceName": "/dev/xvdb", "ebs": {"encrypted": "false"}}]
    assert volumes({"blockDeviceMappings": mappings}) == ["launch template 'lt': volume /dev/xvdb is not encrypted."]


def test_volume_policy_ignores_other_types():
    assert resource_violations(launch_template_volumes_cmk.policy, NODE_GROUP, {}) == []


# --- aws-eks-gpu-node-group-tainted --------------------------------------------------------------


def test_taints_arrive_as_read_only_mappings_in_the_pack():
    assert tainted(gpu_group(taints=(MappingProxyType(GPU_TAINT),))) == []


def tainted(props, name="gpu"):
    return resource_violations(gpu_node_group_tainted.policy, NODE_GROUP, props, name=name)


def test_gpu_node_group_with_the_gpu_taint_is_compliant():
    assert tainted(gpu_group(taints=[{"key": "other", "value": "x", "effect": "NO_EXECUTE"}, GPU_TAINT])) == []


def test_system_node_group_needs_no_taint():
    assert tainted(system_group()) == []


VIOLATION = (
    "GPU node group 'gpu' is not tainted nvidia.com/gpu=true:NoSchedule; pods that need no GPU could take its nodes."
)


@pytest.mark.parametrize(
    "taints",
    [
        None,
        [],
        [{**GPU_TAINT, "effect": "PREFER_NO_SCHEDULE"}],
        [{**GPU_TAINT, "value": "false"}],
        [{**GPU_TAINT, "key": "gpu"}],
    ],
)
def test_gpu_node_group_without_the_gpu_taint(taints):
    assert tainted(gpu_group(taints=taints)) == [VIOLATION]


def test_gpu_label_alone_makes_a_gpu_node_group():
    assert tainted(system_group(labels={"llm-serving/gpu": "a10g"})) == [VIOLATION]


def test_nvidia_ami_alone_makes_a_gpu_node_group():
    assert tainted(system_group(amiType="BOTTLEROCKET_x86_64_NVIDIA")) == [VIOLATION]


def test_every_imds_problem_of_a_template_is_reported():
    lt = template(httpTokens="optional", httpPutResponseHopLimit=2)
    assert imds([lt, group_using(lt)]) == [
        ("launch template 'gpu-lt' does not require IMDSv2 (httpTokens is optional).", lt.urn),
        ("launch template 'gpu-lt' allows an IMDS hop limit of 2 (must be <= 1).", lt.urn),
    ]
