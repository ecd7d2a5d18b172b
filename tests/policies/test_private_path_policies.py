"""Private-path guardrails: internal load balancers, NLBs with security groups, no internet ingress."""

import pytest
from conftest import resource_violations

from policies.aws.ec2 import security_group_no_public_ingress
from policies.aws.elb import load_balancer_internal, network_load_balancer_security_groups

LB = "aws:lb/loadBalancer:LoadBalancer"
LEGACY_LB = "aws:alb/loadBalancer:LoadBalancer"
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"

INTERNAL = load_balancer_internal.policy
HAS_SG = network_load_balancer_security_groups.policy
NO_PUBLIC = security_group_no_public_ingress.policy


def nlb(**changes):
    props = {
        "internal": True,
        "loadBalancerType": "network",
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-nlb"],
    }
    props.update(changes)
    return {k: v for k, v in props.items() if v is not None}


# --- aws-elb-load-balancer-internal ---------------------------------------------------------------

INTERNET_FACING = (
    "load balancer is internet-facing (internal is not true): model servers must be reachable "
    "only through API Gateway's VPC link."
)


@pytest.mark.parametrize("lb_type", [LB, LEGACY_LB])
def test_internal_load_balancer_is_compliant(lb_type):
    assert resource_violations(INTERNAL, lb_type, nlb()) == []


def test_internal_false_is_a_violation():
    assert resource_violations(INTERNAL, LB, nlb(internal=False)) == [f"network {INTERNET_FACING}"]


def test_internal_left_unset_defaults_to_internet_facing():
    assert resource_violations(INTERNAL, LB, nlb(internal=None)) == [f"network {INTERNET_FACING}"]


def test_application_load_balancer_is_checked_too():
    props = nlb(internal=False, loadBalancerType=None)
    assert resource_violations(INTERNAL, LEGACY_LB, props) == [f"application {INTERNET_FACING}"]


def test_internal_policy_ignores_other_resources():
    assert resource_violations(INTERNAL, "aws:lb/targetGroup:TargetGroup", {"internal": False}) == []


# --- aws-elb-network-load-balancer-has-security-groups ---------------------------------------------

NO_GROUPS = (
    "network load balancer has no security groups: anything that can route to it reaches every listener, "
    "and groups cannot be added after creation."
)


def test_nlb_with_a_security_group_is_compliant():
    assert resource_violations(HAS_SG, LB, nlb()) == []


def test_nlb_without_security_groups():
    assert resource_violations(HAS_SG, LB, nlb(securityGroups=None)) == [NO_GROUPS]


def test_nlb_with_an_empty_security_group_list():
    assert resource_violations(HAS_SG, LB, nlb(securityGroups=[])) == [NO_GROUPS]


def test_security_group_rule_does_not_apply_to_application_or_gateway_load_balancers():
    assert resource_violations(HAS_SG, LB, nlb(loadBalancerType="gateway", securityGroups=None)) == []
    assert resource_violations(HAS_SG, LB, nlb(loadBalancerType=None, securityGroups=None)) == []


# --- aws-ec2-security-group-no-public-ingress ------------------------------------------------------


def ingress_rule(**changes):
    props = {"securityGroupId": "sg-nlb", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080}
    props.update(changes)
    return props


def test_ingress_from_the_vpc_or_a_group_is_compliant():
    assert resource_violations(NO_PUBLIC, INGRESS, ingress_rule(cidrIpv4="10.20.0.0/16")) == []
    assert resource_violations(NO_PUBLIC, INGRESS, ingress_rule(referencedSecurityGroupId="sg-pods")) == []


def test_standalone_rule_open_to_all_ipv4():
    props = ingress_rule(cidrIpv4="0.0.0.0/0")
    assert resource_violations(NO_PUBLIC, INGRESS, props) == [
        "ingress from 0.0.0.0/0 (the whole internet) on port 8080."
    ]


def test_ports_as_the_engine_sends_them_read_as_whole_numbers():
    props = ingress_rule(cidrIpv4="0.0.0.0/0", fromPort=8080.0, toPort=8080.0)  # numbers arrive as floats
    assert resource_violations(NO_PUBLIC, INGRESS, props) == [
        "ingress from 0.0.0.0/0 (the whole internet) on port 8080."
    ]


def test_standalone_rule_open_to_all_ipv6_on_all_ports():
    props = ingress_rule(cidrIpv6="::/0", ipProtocol="-1", fromPort=None, toPort=None)
    assert resource_violations(NO_PUBLIC, INGRESS, props) == ["ingress from ::/0 (the whole internet) on all ports."]


def test_inline_ingress_of_a_security_group():
    props = {
        "vpcId": "vpc-1",
        "ingress": [
            {"protocol": "tcp", "fromPort": 8000, "toPort": 8999, "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]},
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "ipv6CidrBlocks": ["::/0"]},
        ],
    }
    assert resource_violations(NO_PUBLIC, SG, props) == [
        "ingress from 0.0.0.0/0 (the whole internet) on ports 8000-8999.",
        "ingress from ::/0 (the whole internet) on port 443.",
    ]


def test_inline_ingress_of_the_default_security_group():
    props = {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert resource_violations(NO_PUBLIC, DEFAULT_SG, props) == [
        "ingress from 0.0.0.0/0 (the whole internet) on all ports."
    ]


def test_security_group_with_only_egress_to_anywhere_is_compliant():
    props = {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert resource_violations(NO_PUBLIC, SG, props) == []


def test_legacy_ingress_rule_open_to_the_internet():
    props = {"type": "ingress", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
    assert resource_violations(NO_PUBLIC, RULE, props) == ["ingress from 0.0.0.0/0 (the whole internet) on port 22."]


def test_legacy_egress_rule_is_not_ingress():
    props = {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
    assert resource_violations(NO_PUBLIC, RULE, props) == []


def test_no_public_ingress_ignores_other_resources():
    assert resource_violations(NO_PUBLIC, "aws:ec2/vpc:Vpc", {"cidrBlock": "0.0.0.0/0"}) == []


def test_a_non_canonical_zero_prefix_is_still_the_whole_internet():
    props = ingress_rule(cidrIpv4="10.0.0.0/0")
    assert resource_violations(NO_PUBLIC, INGRESS, props) == [
        "ingress from 10.0.0.0/0 (the whole internet) on port 8080."
    ]


def test_legacy_ingress_rule_open_to_all_ipv6():
    props = {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}
    assert resource_violations(NO_PUBLIC, RULE, props) == ["ingress from ::/0 (the whole internet) on all ports."]
