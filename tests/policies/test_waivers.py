"""Waivers: the register's format, the guard every served policy wears, and policy-waivers-valid."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, policy_resource, resource_violations, stack_violations
from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from policies import waivers
from policies.aws.ec2 import vpc_flow_logs_enabled
from policies.aws.kms import key_rotation_enabled
from policies.general import waivers_valid
from policies.guard import guarded
from policies.registry import ALL_POLICIES, pack_policies

KEY = "aws:kms/key:Key"
VPC = "aws:ec2/vpc:Vpc"
ROTATION = key_rotation_enabled.policy.name
FLOW_LOGS = vpc_flow_logs_enabled.policy.name
NAMES = {p.name for p in ALL_POLICIES}
ROTATION_MESSAGE = "enableKeyRotation is not true: the key material never rotates."


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::llm-serving::{type_}::{name}"


def waiver(
    policy: str = ROTATION,
    expires: str = "2099-12-31",
    source: str = "policies/waivers.yaml:3",
    violations: tuple[str, ...] = (ROTATION_MESSAGE,),
    **resource,
):
    return {
        "source": source,
        "policy": policy,
        "resource": resource or {"type": KEY, "name": "weights-key"},
        "violations": list(violations),
        "reason": "rotation is done by re-encrypting into a new key each quarter",
        "owner": "security-team",
        "expires": expires,
    }


# --- the register ----------------------------------------------------------------------------------

VALID = """\
waivers:
  - policy: aws-kms-key-rotation-enabled
    stacks: [prod]
    resource:
      type: aws:kms/key:Key
      name: weights-key
    reason: rotation is done by re-encrypting into a new key each quarter
    owner: security-team
    expires: 2027-03-31
    violations: ["enableKeyRotation is not true: the key material never rotates."]
  - policy: aws-ec2-vpc-flow-logs-enabled
    stacks: [dev, prod]
    resource: {urn: "urn:pulumi:dev::llm-serving::aws:ec2/vpc:Vpc::net"}
    reason: flow logs go to the central collector
    owner: network-team
    expires: "2027-01-31"
    violations:
      - "VPC 'net' has no flow log."
"""


def load(tmp_path: Path, text: str) -> list[waivers.Waiver]:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return waivers.load_waivers(path, NAMES, display="waivers.yaml")


def test_the_register_reads_every_field(tmp_path):
    first, second = load(tmp_path, VALID)
    assert first == waivers.Waiver(
        source="waivers.yaml:2",
        policy=ROTATION,
        stacks=("prod",),
        resource_type=KEY,
        resource_name="weights-key",
        urn=None,
        violations=(ROTATION_MESSAGE,),
        reason="rotation is done by re-encrypting into a new key each quarter",
        owner="security-team",
        expires=date(2027, 3, 31),
    )
    assert first.resource == "Key weights-key"
    assert second.urn == "urn:pulumi:dev::llm-serving::aws:ec2/vpc:Vpc::net" and second.expires == date(2027, 1, 31)
    assert second.violations == ("VPC 'net' has no flow log.",)
    assert waivers.for_stack([first, second], "dev") == [second]


def test_the_committed_register_is_valid():
    assert isinstance(waivers.load_waivers(ROOT / "policies" / "waivers.yaml", NAMES), list)


def test_no_register_or_an_empty_one_waives_nothing(tmp_path):
    assert waivers.load_waivers(tmp_path / "absent.yaml", NAMES) == []
    assert load(tmp_path, "") == [] and load(tmp_path, "waivers:\n") == [] and load(tmp_path, "waivers: []\n") == []


def _replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- 1\n", "waivers.yaml:1: must be a mapping with one key, `waivers`"),
        ("waivers: {}\n", "waivers.yaml:1: waivers: must be a list"),
        (
            "waivers:\n  - 3\n",
            "waivers.yaml:2: waivers[0]: must be a mapping with policy, stacks, resource, violations, reason, owner, "
            "expires",
        ),
        ("waivers: [\n", "waivers.yaml:2: YAML syntax error: expected the node content, but found '<stream end>'"),
        (_replace("    owner: security-team\n", ""), "waivers.yaml:2: waivers[0]: lacks owner"),
        (
            _replace("    owner: security-team\n", "    owner: security-team\n    ticket: SEC-1\n"),
            "waivers.yaml:2: waivers[0].ticket: unknown key; keys: policy, stacks, resource, violations, reason, "
            "owner, expires",
        ),
        (
            _replace("    owner: security-team\n", "    owner: security-team\n    owner: x\n"),
            "waivers.yaml:9: owner: given twice",
        ),
        (
            _replace("aws-kms-key-rotation-enabled", "aws-kms-key-rotation"),
            "waivers.yaml:2: waivers[0].policy: no policy 'aws-kms-key-rotation' in the pack",
        ),
        (
            _replace("aws-kms-key-rotation-enabled", "policy-waivers-valid"),
            "waivers.yaml:2: waivers[0].policy: policy-waivers-valid cannot be waived",
        ),
        (
            _replace("stacks: [prod]", "stacks: prod"),
            "waivers.yaml:3: waivers[0].stacks: must be a list of distinct stack names, e.g. [prod]",
        ),
        (
            _replace("stacks: [prod]", "stacks: []"),
            "waivers.yaml:3: waivers[0].stacks: must be a list of distinct stack names, e.g. [prod]",
        ),
        (
            _replace("      name: weights-key\n", ""),
            "waivers.yaml:4: waivers[0].resource: give `type` and `name`, or `urn` alone (got type)",
        ),
        (
            _replace("name: weights-key", "name: weights-*"),
            "waivers.yaml:4: waivers[0].resource.name: must be the resource's exact logical name (got 'weights-*')",
        ),
        (
            _replace("type: aws:kms/key:Key", "type: Key"),
            "waivers.yaml:4: waivers[0].resource.type: must be a type token such as aws:s3/bucket:Bucket (got 'Key')",
        ),
        (
            _replace('urn: "urn:pulumi:dev::', 'urn: "urn:pulumi:qa::'),
            "waivers.yaml:13: waivers[1].resource: the URN is of stack 'qa', not of dev, prod",
        ),
        (
            _replace('urn: "urn:pulumi:dev::llm-serving::aws:ec2/vpc:Vpc::net"', "urn: net"),
            "waivers.yaml:13: waivers[1].resource.urn: must be a URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)",
        ),
        (
            _replace("owner: security-team", "owner: ''"),
            "waivers.yaml:8: waivers[0].owner: must say who or why, in words",
        ),
        (
            _replace("expires: 2027-03-31", "expires: next spring"),
            "waivers.yaml:9: waivers[0].expires: must be an ISO date such as 2027-01-31 (got 'next spring')",
        ),
        (
            _replace("expires: 2027-03-31", "expires: 2027-03-31T10:00:00"),
            "waivers.yaml:9: waivers[0].expires: must be a day, without a time (got 2027-03-31T10:00:00)",
        ),
        (
            VALID + VALID.split("\n", 1)[1].split("  - policy: aws-ec2")[0],
            "waivers.yaml:19: waivers: duplicates waivers.yaml:2 (aws-kms-key-rotation-enabled on Key weights-key in "
            "prod)",
        ),
        # One waiver per policy and resource lists every message it accepts: another message is no excuse.
        (
            VALID
            + VALID.split("\n", 1)[1]
            .split("  - policy: aws-ec2")[0]
            .replace("the key material never rotates.", "the key material never rotates!"),
            "waivers.yaml:19: waivers: duplicates waivers.yaml:2 (aws-kms-key-rotation-enabled on Key weights-key in "
            "prod)",
        ),
        (
            _replace('    violations: ["enableKeyRotation is not true: the key material never rotates."]\n', ""),
            "waivers.yaml:2: waivers[0]: lacks violations",
        ),
        (
            _replace('["enableKeyRotation is not true: the key material never rotates."]', "[]"),
            "waivers.yaml:10: waivers[0].violations: must be a non-empty list of the exact messages the policy reports "
            "on the resource (as report.md shows them)",
        ),
        (
            _replace('["enableKeyRotation is not true: the key material never rotates."]', '"rotation is off"'),
            "waivers.yaml:10: waivers[0].violations: must be a non-empty list of the exact messages the policy reports "
            "on the resource (as report.md shows them)",
        ),
        (
            _replace("      - \"VPC 'net' has no flow log.\"\n", "      - \"VPC 'net' has no flow log.\"\n      - 3\n"),
            "waivers.yaml:19: waivers[1].violations[1]: must be the exact message the policy reports, a non-empty "
            "string (got 3)",
        ),
        (
            _replace("      - \"VPC 'net' has no flow log.\"\n", "      - ''\n"),
            "waivers.yaml:18: waivers[1].violations[0]: must be the exact message the policy reports, a non-empty "
            "string (got '')",
        ),
        (
            _replace("      - \"VPC 'net' has no flow log.\"\n", "      - \"VPC 'net' has\\nno flow log.\"\n"),
            "waivers.yaml:18: waivers[1].violations[0]: must be the message on one line, as report.md prints it (no "
            "line breaks or extra spaces)",
        ),
        (
            _replace("      - \"VPC 'net' has no flow log.\"\n", "      - \" VPC 'net' has no flow log.\"\n"),
            "waivers.yaml:18: waivers[1].violations[0]: must be the message on one line, as report.md prints it (no "
            "line breaks or extra spaces)",
        ),
        (
            _replace("      - \"VPC 'net' has no flow log.\"\n", "      - \"VPC 'net' has no flow log.\"\n" * 2),
            "waivers.yaml:19: waivers[1].violations[1]: duplicates violations[0]",
        ),
    ],
)
def test_a_malformed_register_is_one_line_naming_file_line_and_key(tmp_path, text, expected):
    with pytest.raises(waivers.WaiverError) as raised:
        load(tmp_path, text)
    assert str(raised.value) == expected


def test_today_can_only_move_forward(monkeypatch):
    real = waivers.today()
    monkeypatch.setenv(waivers.TODAY_VARIABLE, "2000-01-01")
    assert waivers.today() == real
    monkeypatch.setenv(waivers.TODAY_VARIABLE, "2999-01-01")
    assert waivers.today() == date(2999, 1, 1)


def test_a_waiver_names_its_resource_exactly():
    by_name = waivers.Waiver.from_config(waiver())
    assert by_name.names(urn(KEY, "weights-key"))
    assert by_name.names(f"urn:pulumi:prod::llm-serving::llm-serving:data:Encryption${KEY}::weights-key")
    assert not by_name.names(urn(KEY, "weights-key-2")) and not by_name.names(urn(VPC, "weights-key"))
    assert not by_name.names(None)
    by_urn = waivers.Waiver.from_config(waiver(urn=urn(KEY, "weights-key")))
    assert by_urn.names(urn(KEY, "weights-key")) and not by_urn.names(urn(KEY, "other"))


# --- the guard -------------------------------------------------------------------------------------

ROTATION_OFF = {"enableKeyRotation": False}


def guarded_rotation() -> Any:
    return next(p for p in pack_policies() if p.name == ROTATION)


def test_every_served_policy_is_guarded_and_declares_waivers():
    served = pack_policies()
    assert [p.name for p in served] == [p.name for p in ALL_POLICIES]
    for policy, original in zip(served, ALL_POLICIES, strict=True):
        assert policy is not original and policy.inner is original
        assert isinstance(policy, ResourceValidationPolicy) == isinstance(original, ResourceValidationPolicy)
        assert policy.config_schema is not None and "waivers" in policy.config_schema.properties
        assert (policy.enforcement_level, policy.severity, policy.description) == (
            original.enforcement_level,
            original.severity,
            original.description,
        )


def test_a_live_waiver_hides_the_violation_it_names():
    policy = guarded_rotation()
    assert resource_violations(policy, KEY, ROTATION_OFF, name="weights-key") == [ROTATION_MESSAGE]
    config = {"waivers": [waiver()]}
    assert resource_violations(policy, KEY, ROTATION_OFF, name="weights-key", config=config) == []
    by_urn = {"waivers": [waiver(urn=urn(KEY, "weights-key"))]}
    assert resource_violations(policy, KEY, ROTATION_OFF, name="weights-key", config=by_urn) == []


@pytest.mark.parametrize(
    "config",
    [
        {"waivers": [waiver(expires="2020-01-31")]},
        {"waivers": [waiver(type=KEY, name="logs-key")]},
        {"waivers": [waiver(policy=FLOW_LOGS)]},
        {"waivers": [{**waiver(), "expires": "soon"}]},
        {"waivers": "everything"},
        {"waivers": [waiver(violations=("enableKeyRotation is false.",))]},
        {"waivers": [{**waiver(), "violations": []}]},
        {"waivers": [{k: v for k, v in waiver().items() if k != "violations"}]},
    ],
    ids=[
        "expired",
        "another-resource",
        "another-policy",
        "malformed",
        "not-a-list",
        "another-message",
        "no-messages",
        "without-violations",
    ],
)
def test_a_waiver_hides_nothing_else(config):
    assert resource_violations(guarded_rotation(), KEY, ROTATION_OFF, name="weights-key", config=config) == [
        ROTATION_MESSAGE
    ]


def test_a_stack_policy_violation_is_waived_by_the_resource_it_names():
    policy = next(p for p in pack_policies() if p.name == FLOW_LOGS)
    vpcs = [policy_resource(VPC, "net-a", {}), policy_resource(VPC, "net-b", {})]
    config = {
        "waivers": [waiver(policy=FLOW_LOGS, violations=("VPC 'net-a' has no flow log.",), type=VPC, name="net-a")]
    }
    assert stack_violations(policy, vpcs, config) == [("VPC 'net-b' has no flow log.", urn(VPC, "net-b"))]


CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
WILDCARDS = "kubernetes-rbac-role-disallow-wildcards"
RESOURCES_WILDCARD = "rules[0]: wildcard resources '*'."
VERBS_WILDCARD = "rules[0]: wildcard verbs '*'."


def adapter_role(verbs: list[str]) -> dict[str, Any]:
    return {"rules": [{"apiGroups": ["custom.metrics.k8s.io"], "resources": ["*"], "verbs": verbs}]}


def adapter_waiver(*violations: str) -> dict[str, Any]:
    return waiver(policy=WILDCARDS, violations=violations, type=CLUSTER_ROLE, name="adapter")


def test_a_waiver_hides_only_the_messages_it_lists():
    # The adapter's role needs `resources: ['*']`; a later `verbs: ['*']` on it is another violation, reported.
    policy = next(p for p in pack_policies() if p.name == WILDCARDS)
    config = {"waivers": [adapter_waiver(RESOURCES_WILDCARD)]}
    waived = adapter_role(["get", "list", "watch"])
    assert resource_violations(policy, CLUSTER_ROLE, waived, name="adapter") == [RESOURCES_WILDCARD]
    assert resource_violations(policy, CLUSTER_ROLE, waived, name="adapter", config=config) == []
    regressed = adapter_role(["*"])
    assert resource_violations(policy, CLUSTER_ROLE, regressed, name="adapter", config=config) == [VERBS_WILDCARD]
    both = {"waivers": [adapter_waiver(RESOURCES_WILDCARD, VERBS_WILDCARD)]}
    assert resource_violations(policy, CLUSTER_ROLE, regressed, name="adapter", config=both) == []


def _raising(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    int(args.props["maxSize"])


RAISING = ResourceValidationPolicy(name="test-raising", description="Reads maxSize as a number.", validate=_raising)


def test_a_policy_that_raises_reports_a_violation_instead_that_no_waiver_hides():
    config = {"waivers": [waiver(policy="test-raising")]}
    assert resource_violations(guarded(RAISING), KEY, {"maxSize": "lots"}, name="weights-key", config=config) == [
        "the policy could not evaluate this (ValueError: invalid literal for int() with base 10: 'lots'); a value it "
        "reads is malformed or of an unexpected type, counted as a violation"
    ]
    assert resource_violations(guarded(RAISING), KEY, {"maxSize": 3}) == []


# --- policy-waivers-valid --------------------------------------------------------------------------


def audit(resources, *entries, policy_config=None):
    config = {"waivers": list(entries), "policyConfig": policy_config or {}}
    return stack_violations(waivers_valid.policy, resources, config)


WEIGHTS_KEY = policy_resource(KEY, "weights-key", ROTATION_OFF)


def test_a_current_waiver_of_a_real_violation_passes():
    assert audit([WEIGHTS_KEY], waiver()) == []


def test_an_expired_waiver_is_a_violation_naming_its_resource():
    assert audit([WEIGHTS_KEY], waiver(expires="2020-01-31")) == [
        (
            "waiver policies/waivers.yaml:3 (aws-kms-key-rotation-enabled on Key weights-key) expired on 2020-01-31: "
            "fix the resource, or renew the waiver after a new review.",
            WEIGHTS_KEY.urn,
        )
    ]


def test_a_waiver_holds_through_its_expiry_day(monkeypatch):
    monkeypatch.setenv(waivers.TODAY_VARIABLE, "2999-01-31")
    assert audit([WEIGHTS_KEY], waiver(expires="2999-01-31")) == []
    monkeypatch.setenv(waivers.TODAY_VARIABLE, "2999-02-01")
    assert [m for m, _ in audit([WEIGHTS_KEY], waiver(expires="2999-01-31"))] == [
        "waiver policies/waivers.yaml:3 (aws-kms-key-rotation-enabled on Key weights-key) expired on 2999-01-31: "
        "fix the resource, or renew the waiver after a new review."
    ]


def test_a_waiver_of_a_compliant_resource_is_unmatched():
    compliant = policy_resource(KEY, "weights-key", {"enableKeyRotation": True})
    assert audit([compliant], waiver()) == [
        (
            "waiver policies/waivers.yaml:3 (aws-kms-key-rotation-enabled on Key weights-key): "
            "aws-kms-key-rotation-enabled reports nothing on it any more; remove the waiver.",
            compliant.urn,
        )
    ]


def test_a_waiver_of_a_renamed_resource_is_unmatched():
    renamed = policy_resource(KEY, "weights-key-v2", ROTATION_OFF)
    assert audit([renamed], waiver()) == [
        (
            "waiver policies/waivers.yaml:3 (aws-kms-key-rotation-enabled on Key weights-key): no such resource in the "
            "stack; remove the waiver, or name the resource as it is now.",
            None,
        )
    ]


def test_a_waiver_naming_two_resources_must_name_one_by_urn():
    twins = [WEIGHTS_KEY, policy_resource(KEY, "weights-key", ROTATION_OFF, parent=policy_resource(VPC, "x", {}))]
    twins[1].urn = f"urn:pulumi:test::llm-serving::llm-serving:data:Other${KEY}::weights-key"
    assert audit(twins, waiver()) == [
        (
            "waiver policies/waivers.yaml:3 (aws-kms-key-rotation-enabled on Key weights-key): names 2 resources; "
            "name one by its URN.",
            None,
        )
    ]


def test_a_waiver_is_unmatched_when_a_message_it_lists_is_no_longer_reported():
    fixed = policy_resource(CLUSTER_ROLE, "adapter", adapter_role(["get", "list", "watch"]))
    assert audit([fixed], adapter_waiver(RESOURCES_WILDCARD, VERBS_WILDCARD)) == [
        (
            "waiver policies/waivers.yaml:3 (kubernetes-rbac-role-disallow-wildcards on ClusterRole adapter): "
            "kubernetes-rbac-role-disallow-wildcards no longer reports \"rules[0]: wildcard verbs '*'.\" on it; remove "
            "that message from the waiver (or the waiver).",
            fixed.urn,
        )
    ]
    assert audit([fixed], adapter_waiver(RESOURCES_WILDCARD)) == []


def test_a_waiver_of_a_message_the_policy_now_words_differently_is_unmatched():
    # A rule added in front moves the wildcard to rules[1]: the change gets a new review, not the old waiver.
    moved = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, *adapter_role(["get"])["rules"]]}
    role = policy_resource(CLUSTER_ROLE, "adapter", moved)
    assert [m for m, _ in audit([role], adapter_waiver(RESOURCES_WILDCARD))] == [
        "waiver policies/waivers.yaml:3 (kubernetes-rbac-role-disallow-wildcards on ClusterRole adapter): "
        "kubernetes-rbac-role-disallow-wildcards no longer reports \"rules[0]: wildcard resources '*'.\" on it; "
        "remove that message from the waiver (or the waiver)."
    ]


def test_a_stack_policy_waiver_matches_when_that_policy_names_the_resource():
    vpc = policy_resource(VPC, "net-a", {})
    flow_waiver = waiver(policy=FLOW_LOGS, violations=("VPC 'net-a' has no flow log.",), type=VPC, name="net-a")
    assert audit([vpc], flow_waiver) == []
    flow_log = policy_resource(
        "aws:ec2/flowLog:FlowLog", "net-a-flow", {"trafficType": "ALL"}, property_dependencies={"vpcId": [vpc]}
    )
    assert [m for m, _ in audit([vpc, flow_log], flow_waiver)] == [
        "waiver policies/waivers.yaml:3 (aws-ec2-vpc-flow-logs-enabled on Vpc net-a): aws-ec2-vpc-flow-logs-enabled "
        "reports nothing on it any more; remove the waiver."
    ]


def test_the_waived_policy_runs_with_its_own_config():
    # The same image complies with one registry allowlist and violates another.
    policy = next(p for p in ALL_POLICIES if p.name == "kubernetes-image-pinned-from-allowed-registry")
    deployment = policy_resource(
        "kubernetes:apps/v1:Deployment",
        "tgi",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "tgi", "image": "ghcr.io/x/tgi@sha256:" + "a" * 64}]}}
            }
        },
    )
    message = f"container 'tgi': image 'ghcr.io/x/tgi@sha256:{'a' * 64}' is not from an allowed registry (quay.io)."
    entry = waiver(policy=policy.name, violations=(message,), type="kubernetes:apps/v1:Deployment", name="tgi")
    assert audit([deployment], entry, policy_config={policy.name: {"allowedRegistries": ["ghcr.io"]}}) != []
    assert audit([deployment], entry, policy_config={policy.name: {"allowedRegistries": ["quay.io"]}}) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            waiver(policy="no-such-policy"),
            "waiver policies/waivers.yaml:3 (no-such-policy on Key weights-key): the "
            "pack has no waivable policy 'no-such-policy'.",
        ),
        (
            {"policy": ROTATION},
            "waiver #1 of the pack's config is malformed (source: must be a non-empty string); it waives nothing.",
        ),
        (
            {**waiver(), "violations": ["rotation is off", "rotation is off"]},
            "waiver #1 of the pack's config is malformed (violations: must be a non-empty list of distinct one-line "
            "messages); it waives nothing.",
        ),
    ],
)
def test_a_waiver_the_pack_cannot_apply_is_a_violation(entry, expected):
    assert [m for m, _ in audit([WEIGHTS_KEY], entry)] == [expected]
