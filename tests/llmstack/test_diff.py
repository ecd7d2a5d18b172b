"""`llmstack diff` and `plan --base`: what a change does, on small hand-made plans and on the real ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmstack import report
from llmstack.diff import KNOWN_AFTER_UP, diff_plans, flatten

STACK = "urn:pulumi:prod::llm-serving"
AWS = f"{STACK}::pulumi:providers:aws::aws-us-east-1"


def urn(type_token: str, name: str) -> str:
    return f"{STACK}::{type_token}::{name}"


def resource(name: str, type_token: str = "aws:s3/bucketV2:BucketV2", inputs: dict | None = None, **extra) -> dict:
    return {
        "urn": urn(type_token, name),
        "type": type_token,
        "name": name,
        "parent": extra.pop("parent", None),
        "provider": extra.pop("provider", AWS),
        "protect": extra.pop("protect", False),
        "retain_on_delete": False,
        "dependencies": [],
        "property_dependencies": extra.pop("property_dependencies", {}),
        "inputs": inputs or {},
        **extra,
    }


def aws_provider(region: str = "us-east-1") -> dict:
    return resource("aws-us-east-1", "pulumi:providers:aws", {"region": region}, provider=None)


def plan(*resources: dict, violations=(), waived=(), lines=(), budget=1000.0) -> dict[str, Any]:
    lines = list(lines)
    return {
        "project": "llm-serving",
        "stack": "prod",
        "resources": [aws_provider(), *resources] if not any(r["urn"] == AWS for r in resources) else list(resources),
        "policy": {"violations": list(violations), "waived": list(waived), "policies": []},
        "cost": {
            "monthly_usd": sum(line["monthly_usd"] for line in lines),
            "ceiling_monthly_usd": sum(line["ceiling_monthly_usd"] for line in lines),
            "budget_usd": budget,
            "lines": lines,
        },
    }


def cost_line(name: str, monthly: float, ceiling: float, region="us-east-1", component="GpuCluster") -> dict:
    return {
        "type": "aws:eks/nodeGroup:NodeGroup",
        "name": name,
        "region": region,
        "component": component,
        "monthly_usd": monthly,
        "ceiling_monthly_usd": ceiling,
        "basis": "test",
    }


def no_replacements(type_token: str, path: str) -> str | None:
    return None


def replace_on(**paths: str):
    """A force-new rule for tests: type name → the one dotted path that forces replacement."""

    def rule(type_token: str, path: str) -> str | None:
        forced = paths.get(type_token.rsplit(":", 1)[-1])
        return forced if forced and (path == forced or path.startswith(forced + ".")) else None

    return rule


def actions(diff) -> dict[str, str]:
    return {c.name: c.action for c in diff.changes}


# --- resources ----------------------------------------------------------------------------------


def test_resources_are_matched_by_urn_into_create_update_delete():
    base = plan(resource("kept", inputs={"a": 1}), resource("changed", inputs={"a": 1}), resource("gone"))
    head = plan(resource("kept", inputs={"a": 1}), resource("changed", inputs={"a": 2}), resource("new"))
    diff = diff_plans(base, head, no_replacements)
    assert actions(diff) == {"new": "create", "changed": "update", "gone": "delete"}
    assert diff.counts == {"create": 1, "update": 1, "replace": 0, "delete": 1}
    assert diff.unchanged == 1  # `kept`; the provider is not counted, as report.md does not count it
    assert diff.summary() == "+1 ~1 -1, +$0/month, policy PASS"


def test_a_renamed_resource_is_a_delete_and_a_create():
    diff = diff_plans(plan(resource("old-name")), plan(resource("new-name")), no_replacements)
    assert actions(diff) == {"new-name": "create", "old-name": "delete"}


def test_components_are_not_changes_of_their_own():
    component = resource("gpu", "llm-serving:cluster:GpuCluster", {"x": 1}, provider=None)
    head_component = {**component, "inputs": {"x": 2}}
    diff = diff_plans(plan(component), plan(head_component, resource("new")), no_replacements)
    assert actions(diff) == {"new": "create"}


def test_property_changes_name_each_leaf_by_its_path():
    before = {"scalingConfig": {"maxSize": 6, "minSize": 1}, "labels": {"a": "1"}, "subnetIds": ["s-1", "s-2"]}
    after = {"scalingConfig": {"maxSize": 8, "minSize": 1}, "subnetIds": ["s-1"], "taints": []}
    diff = diff_plans(
        plan(resource("ng", "aws:eks/nodeGroup:NodeGroup", before)),
        plan(resource("ng", "aws:eks/nodeGroup:NodeGroup", after)),
        no_replacements,
    )
    [change] = diff.changes
    assert [(p.path, p.kind, p.before, p.after) for p in change.properties] == [
        ("labels.a", "removed", "1", None),
        ("scalingConfig.maxSize", "changed", 6, 8),
        ("subnetIds[1]", "removed", "s-2", None),
        ("taints", "added", None, []),
    ]


def test_map_keys_that_are_not_names_are_quoted_in_paths():
    assert flatten({"tags": {"llm-serving/model": "m", 'a"b': 1}, "metadata": {"name": "x"}}) == {
        'tags["llm-serving/model"]': "m",
        'tags["a\\"b"]': 1,
        "metadata.name": "x",
    }


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("[secret]", "[secret]", None),  # both masked: nothing to compare
        ("hunter2", "[secret]", "changed"),  # became secret
        ("[secret]", "hunter3", "changed"),  # no longer secret
        (None, "[secret]", "added"),
        ("[secret]", None, "removed"),
    ],
)
def test_secrets_show_as_changed_never_as_values(before, after, kind):
    def inputs(value):
        return {} if value is None else {"password": value}

    diff = diff_plans(
        plan(resource("db", inputs=inputs(before))), plan(resource("db", inputs=inputs(after))), no_replacements
    )
    if kind is None:
        assert diff.changes == ()
        return
    [change] = diff.changes
    [prop] = change.properties
    assert (prop.path, prop.kind, prop.secret) == ("password", kind, True)
    assert {prop.before, prop.after} <= {"[secret]", None}
    rendered = json.dumps(diff.to_json()) + report.diff_text(diff) + report.markdown(plan(), diff)
    assert "hunter" not in rendered


def test_a_force_new_property_makes_an_update_a_replacement():
    type_token = "aws:eks/cluster:Cluster"
    rule = replace_on(Cluster="vpcConfig.subnetIds")
    base = plan(resource("eks", type_token, {"version": "1.33", "vpcConfig": {"subnetIds": ["a", "b"]}}))
    version = plan(resource("eks", type_token, {"version": "1.34", "vpcConfig": {"subnetIds": ["a", "b"]}}))
    subnets = plan(resource("eks", type_token, {"version": "1.33", "vpcConfig": {"subnetIds": ["a", "c"]}}))
    assert actions(diff_plans(base, version, rule)) == {"eks": "update"}
    diff = diff_plans(base, subnets, rule)
    [change] = diff.changes
    assert change.action == "replace"
    assert change.replace_reasons == ("changing `vpcConfig.subnetIds` forces a new resource",)
    assert [p.forces_replacement for p in change.properties] == ["vpcConfig.subnetIds"]
    assert diff.summary() == "+0 ~0 ±1 -0, +$0/month, policy PASS"


def test_a_change_under_a_conditional_rule_is_an_update_that_may_replace():
    # The table's CustomizeDiff rule for network load balancers: adding the first or removing all
    # security groups replaces it, other changes do not; the diff cannot tell which, so it says so.
    type_token = "aws:lb/loadBalancer:LoadBalancer"
    base = plan(
        resource("nlb", type_token, {"loadBalancerType": "network", "securityGroups": ["sg-1"], "idleTimeout": 60})
    )
    groups = plan(resource("nlb", type_token, {"loadBalancerType": "network", "securityGroups": [], "idleTimeout": 60}))
    timeout = plan(
        resource("nlb", type_token, {"loadBalancerType": "network", "securityGroups": ["sg-1"], "idleTimeout": 90})
    )
    [change] = diff_plans(base, groups, no_replacements).changes
    assert change.action == "update"
    rule = (
        "`securityGroups`: CustomizeDiff (network LB): adding the first or removing all security groups forces "
        "replacement"
    )
    assert change.may_replace == (rule,)
    assert change.to_json()["may_replace"] == [rule]
    assert f"(may replace: {rule})" in report.diff_text(diff_plans(base, groups, no_replacements))
    assert f"may replace: {rule}" in report.markdown(groups, diff_plans(base, groups, no_replacements))
    [plain] = diff_plans(base, timeout, no_replacements).changes
    assert plain.action == "update" and plain.may_replace == ()


def test_the_rule_sees_paths_without_list_indices():
    seen = []
    diff_plans(
        plan(resource("r", inputs={"rules": [{"to": 1}], "tags": {"a.b": "x"}})),
        plan(resource("r", inputs={"rules": [{"to": 2}], "tags": {"a.b": "y"}})),
        lambda type_token, path: seen.append(path),
    )
    assert sorted(seen) == ["rules.to", "tags.a\\.b"]


def test_a_provider_whose_region_changes_replaces_what_it_manages():
    base = plan(aws_provider("us-east-1"), resource("bucket"), resource("key", "aws:kms/key:Key"))
    head = plan(aws_provider("us-west-2"), resource("bucket"), resource("key", "aws:kms/key:Key"))
    diff = diff_plans(base, head, no_replacements)
    assert actions(diff) == {"aws-us-east-1": "replace", "bucket": "replace", "key": "replace"}
    bucket = next(c for c in diff.changes if c.name == "bucket")
    assert bucket.replace_reasons == ("its provider aws-us-east-1 is replaced",)


def test_a_replacement_reaches_inputs_that_take_its_id():
    vpc = resource("vpc", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"})
    subnet = resource(
        "subnet",
        "aws:ec2/subnet:Subnet",
        {"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24"},
        property_dependencies={"vpcId": [vpc["urn"]]},
    )
    route = resource(
        "rt", "aws:ec2/routeTable:RouteTable", {"vpcId": "vpc-1"}, property_dependencies={"vpcId": [vpc["urn"]]}
    )
    new_vpc = {**vpc, "inputs": {"cidrBlock": "10.1.0.0/16"}}
    rule = replace_on(Vpc="cidrBlock", Subnet="vpcId")
    diff = diff_plans(plan(vpc, subnet, route), plan(new_vpc, subnet, route), rule)
    assert actions(diff) == {"vpc": "replace", "subnet": "replace", "rt": "update"}
    route_change = next(c for c in diff.changes if c.name == "rt")
    [prop] = route_change.properties
    assert (prop.path, prop.before, prop.after) == ("vpcId", "vpc-1", KNOWN_AFTER_UP)
    subnet_change = next(c for c in diff.changes if c.name == "subnet")
    assert subnet_change.replace_reasons == ("`vpcId` takes an output of vpc, which is replaced",)


@pytest.mark.parametrize(
    ("type_token", "protect", "action", "warned"),
    [
        ("aws:s3/bucketV2:BucketV2", False, "delete", "its objects (model weights) are deleted with it"),
        ("aws:kms/key:Key", False, "replace", "data encrypted under it cannot be decrypted"),
        ("aws:ec2/subnet:Subnet", True, "delete", "it is protected"),
        ("aws:ec2/subnet:Subnet", False, "delete", None),
        ("aws:s3/bucketV2:BucketV2", True, "update", None),
    ],
)
def test_a_protected_or_stateful_replace_or_delete_is_warned_about(type_token, protect, action, warned):
    rule = replace_on(**{type_token.rsplit(":", 1)[-1]: "bucket"}) if action == "replace" else no_replacements
    base = plan(resource("thing", type_token, {"bucket": "a"}, protect=protect))
    head = plan() if action == "delete" else plan(resource("thing", type_token, {"bucket": "b"}, protect=protect))
    diff = diff_plans(base, head, rule)
    [change] = diff.changes
    assert change.action == action
    if warned is None:
        assert change.warning is None and diff.warnings == []
    else:
        assert warned in change.warning
        assert change.warning.startswith(
            f"thing ({type_token}) is {'replaced' if action == 'replace' else 'deleted'}: "
        )
        markdown = report.markdown(head, diff)
        assert "> [!WARNING]" in markdown and warned in markdown
        assert f"WARNING: {change.warning}" in report.diff_text(diff)


# --- cost and policy ----------------------------------------------------------------------------


def test_cost_delta_per_region_and_component_monthly_and_at_max():
    base = plan(
        lines=[cost_line("a", 1000, 2000), cost_line("b", 500, 500, region="eu-west-1", component="WeightStore")]
    )
    head = plan(
        lines=[cost_line("a", 1240, 3000), cost_line("b", 500, 500, region="eu-west-1", component="WeightStore")]
    )
    diff = diff_plans(base, head, no_replacements)
    assert (diff.cost.monthly.delta, diff.cost.monthly.percent) == (240, 16.0)
    assert (diff.cost.ceiling.delta, diff.cost.ceiling.percent) == (1000, 40.0)
    assert {k: (m.delta, c.delta) for k, (m, c) in diff.cost.by_region.items()} == {"us-east-1": (240, 1000)}
    assert {k: (m.delta, c.delta) for k, (m, c) in diff.cost.by_component.items()} == {"GpuCluster": (240, 1000)}
    assert diff.summary() == "+0 ~0 -0, +$240/month (+16.0 %), policy PASS"
    lowered = diff_plans(head, base, no_replacements)
    assert lowered.summary() == "+0 ~0 -0, -$240/month (-13.8 %), policy PASS"


def violation(policy: str, name: str, message: str, enforcement: str = "mandatory") -> dict:
    return {
        "policy": policy,
        "enforcement": enforcement,
        "severity": "high",
        "urn": urn("aws:s3/bucketV2:BucketV2", name),
        "message": message,
    }


def waiver(policy: str, resource_name: str, source: str) -> dict:
    return {
        "policy": policy,
        "resource": resource_name,
        "violations": ["v"],
        "reason": "r",
        "owner": "o",
        "expires": "2027-01-01",
        "source": source,
    }


def test_policy_delta_new_and_resolved_violations_and_waivers():
    base = plan(
        violations=[violation("p1", "a", "old"), violation("p2", "b", "stays", "advisory")],
        waived=[waiver("w1", "x", "policies/waivers.yaml:3")],
    )
    head = plan(
        violations=[violation("p2", "b", "stays", "advisory"), violation("p3", "c", "fresh")],
        waived=[waiver("w0", "y", "policies/waivers.yaml:3"), waiver("w1", "x", "policies/waivers.yaml:14")],
    )
    diff = diff_plans(base, head, no_replacements)
    assert (diff.policy.verdict_before, diff.policy.verdict_after) == ("FAIL", "FAIL")
    assert [v["policy"] for v in diff.policy.new] == ["p3"]
    assert [v["policy"] for v in diff.policy.resolved] == ["p1"]
    # A waiver moved down the file by one added above it is the same waiver.
    assert [w["policy"] for w in diff.policy.waivers_added] == ["w0"]
    assert diff.policy.waivers_removed == ()
    assert diff.summary().endswith("policy FAIL")


def test_markdown_cells_are_escaped():
    base = plan(resource("r", inputs={"note": "a"}))
    head = plan(resource("r", inputs={"note": "x | <b>y</b> `z` -->"}))
    markdown = report.markdown(head, diff_plans(base, head, no_replacements))
    assert "<code>x &#124; &lt;b&gt;y&lt;/b&gt; `z` --&gt;</code>" in markdown
    assert "<b>" not in markdown


def _policy(*resources: str) -> str:
    statement = {"Sid": "DescribeLoadBalancers", "Effect": "Allow", "Action": ["elasticloadbalancing:Describe*"]}
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [statement, {"Effect": "Allow", "Resource": list(resources)}]}
    )


def test_a_json_document_string_shows_the_changes_inside_it():
    base = plan(resource("p", "aws:iam/rolePolicy:RolePolicy", {"policy": _policy("arn:a", "arn:b")}))
    head = plan(resource("p", "aws:iam/rolePolicy:RolePolicy", {"policy": _policy("arn:a", "arn:c", "arn:d")}))
    diff = diff_plans(base, head, no_replacements)
    [change] = diff.changes
    [policy] = change.properties
    assert (policy.path, policy.kind) == ("policy", "changed")
    assert [(p.path, p.kind, p.before, p.after) for p in policy.inner] == [
        ("Statement[1].Resource[1]", "changed", "arn:b", "arn:c"),
        ("Statement[1].Resource[2]", "added", None, "arn:d"),
    ]
    assert policy.to_json()["inner"][1] == {
        "path": "Statement[1].Resource[2]",
        "kind": "added",
        "before": None,
        "after": "arn:d",
        "secret": False,
        "forces_replacement": None,
    }
    markdown = report.markdown(head, diff)
    # Both strings begin with the same sixty characters: the row shows the document's own change instead.
    assert (
        "<code>policy › Statement[1].Resource[1]</code> <code>arn:b</code> → <code>arn:c</code><br>"
        "<code>policy › Statement[1].Resource[2]</code> + <code>arn:d</code>"
    ) in markdown
    assert "DescribeLo" not in markdown
    assert "[policy › Statement[1].Resource[1], policy › Statement[1].Resource[2]]" in report.diff_text(diff)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{not json", '{"a": 1}'),  # one side is not a document
        ('"quoted"', '"other"'),  # JSON, but a string, not a document
        ("[secret]", '{"a": 1}'),  # a secret is never opened
    ],
)
def test_only_a_document_on_both_sides_is_opened(before, after):
    diff = diff_plans(
        plan(resource("r", inputs={"v": before})), plan(resource("r", inputs={"v": after})), no_replacements
    )
    [change] = diff.changes
    assert [p.inner for p in change.properties] == [()]
    assert "inner" not in change.properties[0].to_json()


def test_a_long_value_is_shown_from_near_its_first_difference():
    prefix = "llm-serving tenant assistant: llama-3-70b-instruct, llama-3-8b-instruct"
    base = plan(resource("plan", inputs={"description": prefix}))
    head = plan(resource("plan", inputs={"description": prefix + ", qwen-7b-instruct"}))
    markdown = report.markdown(head, diff_plans(base, head, no_replacements))
    assert (
        "<code>description</code> <code>…-8b-instruct</code> → <code>…-8b-instruct, qwen-7b-instruct</code>" in markdown
    )
    # Short values, or long ones that differ early, are shown from the start.
    base = plan(resource("r", inputs={"v": "a" * 70}))
    head = plan(resource("r", inputs={"v": "b" * 70}))
    assert f"<code>{'a' * 59}…</code> → <code>{'b' * 59}…</code>" in report.markdown(
        head, diff_plans(base, head, no_replacements)
    )


def test_a_long_path_is_cut_in_the_middle_so_its_element_shows():
    key = "aws:RequestTag/kubernetes-service-account"
    condition = {"Condition": {"StringEquals": {key: ["a", "b"]}}}
    deep = {"Statement": [{"Effect": "Allow"}, condition]}
    changed = {"Statement": [{"Effect": "Allow"}, {"Condition": {"StringEquals": {key: ["a", "c"]}}}]}
    inputs = {"assumeRolePolicyDocumentForTheModelServer": json.dumps(deep)}
    base = plan(resource("role", "aws:iam/role:Role", inputs))
    head = plan(
        resource("role", "aws:iam/role:Role", {"assumeRolePolicyDocumentForTheModelServer": json.dumps(changed)})
    )
    path = f'assumeRolePolicyDocumentForTheModelServer › Statement[1].Condition.StringEquals["{key}"][1]'
    assert len(path) > report.MAX_PATH_CHARS
    cut = path[:49] + "…" + path[-49:]
    assert cut.endswith('-service-account"][1]')
    assert f"<code>{cut.replace(chr(34), '&quot;')}</code> <code>b</code> → <code>c</code>" in report.markdown(
        head, diff_plans(base, head, no_replacements)
    )


def test_report_leads_with_the_marker_and_the_summary():
    base, head = plan(resource("a")), plan(resource("a"), resource("b"))
    lines = report.markdown(head, diff_plans(base, head, no_replacements)).splitlines()
    assert lines[0] == "<!-- llm-serving-plan stack=prod -->"
    assert lines[1] == "## llm-serving `prod`: +1 ~0 -0, +$0/month, policy PASS"
    assert lines.index("### What changes") < lines.index("### Cost against budget") < lines.index("### Policy")


def test_a_secret_whose_ciphertext_changed_is_named_never_shown():
    base, head = plan(), plan()
    base["secrets"] = {"llm-serving:onprem_targets": "sha256:aaaa", "llm-serving:kept": "sha256:1111"}
    head["secrets"] = {
        "llm-serving:onprem_targets": "sha256:bbbb",
        "llm-serving:kept": "sha256:1111",
        "llm-serving:n": "sha256:2",
    }
    diff = diff_plans(base, head, no_replacements)
    assert diff.secrets_changed == ("llm-serving:n", "llm-serving:onprem_targets")
    assert "secret config changed (values not shown): llm-serving:n, llm-serving:onprem_targets" in report.diff_text(
        diff
    )


def test_the_stack_file_fingerprints_each_secret_by_its_ciphertext(tmp_path):
    from conftest import ROOT

    from llmstack.stackfile import load_stack

    text = (ROOT / "Pulumi.prod.yaml").read_text()
    ciphertext = "v1:Qm9ndXNDaXBoZXJ0ZXh0Rm9yT2ZmbGluZVBsYW5zT25seQ=="
    assert ciphertext in text
    (tmp_path / "Pulumi.prod.yaml").write_text(text.replace(ciphertext, "v1:b3RoZXJDaXBoZXJ0ZXh0"))
    before = load_stack("prod", None, root=ROOT).secret_fingerprints
    after = load_stack("prod", str(tmp_path / "Pulumi.prod.yaml"), root=ROOT).secret_fingerprints
    assert before.keys() == after.keys() == {"llm-serving:onprem_targets"}
    assert before != after
    assert all(value.startswith("sha256:") and ciphertext not in value for value in before.values())
