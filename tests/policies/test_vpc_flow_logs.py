from conftest import policy_resource, stack_violations

from policies.aws.ec2 import vpc_flow_logs_enabled

POLICY = vpc_flow_logs_enabled.policy


def vpc(name="vpc"):
    return policy_resource("aws:ec2/vpc:Vpc", name, {"cidrBlock": "10.0.0.0/16"})


def flow_log(target, traffic="ALL", name="flow"):
    return policy_resource(
        "aws:ec2/flowLog:FlowLog",
        name,
        {"vpcId": "vpc-id", "trafficType": traffic},
        dependencies=[target],
        property_dependencies={"vpcId": [target]},
    )


def test_vpc_with_all_traffic_flow_log_is_compliant():
    network = vpc()
    assert stack_violations(POLICY, [network, flow_log(network)]) == []


def test_vpc_without_flow_log():
    network = vpc("main")
    assert stack_violations(POLICY, [network]) == [("VPC 'main' has no flow log.", network.urn)]


def test_flow_log_of_another_vpc_does_not_count():
    covered, uncovered = vpc("a"), vpc("b")
    assert stack_violations(POLICY, [covered, uncovered, flow_log(covered)]) == [
        ("VPC 'b' has no flow log.", uncovered.urn)
    ]


def test_flow_log_of_rejected_traffic_only():
    network = vpc("main")
    assert stack_violations(POLICY, [network, flow_log(network, traffic="REJECT")]) == [
        ("VPC 'main' flow logs do not capture ALL traffic (only accepted or rejected).", network.urn)
    ]


def test_stack_without_vpcs_has_nothing_to_check():
    assert stack_violations(POLICY, [policy_resource("aws:s3/bucket:Bucket", "b", {})]) == []
