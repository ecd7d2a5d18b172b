"""The catalogue's vocabulary and the kill criterion, on small hand-made plans (no pack, no program)."""

from __future__ import annotations

import json

import pytest

from llmstack.analyzer import PolicyVerdict, Violation
from tests.mutation.catalogue import CATALOGUE, STACKS, Mutation, one
from tests.mutation.harness import judge, mutate
from tests.mutation.ops import (
    AddClone,
    Append,
    Attached,
    CatalogueError,
    Contains,
    Delete,
    DropWhere,
    Each,
    Eq,
    From,
    Linked,
    Multiply,
    Not,
    Option,
    Remove,
    SelectedBy,
    Set,
    Sub,
    doc,
    parse_path,
    where,
)

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::llm-serving::llm-serving:storage:WeightStore${type_}::{name}"


def _resource(type_: str, name: str, inputs: dict, deps: dict | None = None) -> dict:
    return {
        "urn": _urn(type_, name),
        "type": type_,
        "name": name,
        "parent": "urn:pulumi:prod::llm-serving::llm-serving:storage:WeightStore::weights",
        "provider": "urn:pulumi:prod::llm-serving::pulumi:providers:aws::aws-us-east-1::id",
        "inputs": inputs,
        "dependencies": sorted({u for urns in (deps or {}).values() for u in urns}),
        "property_dependencies": deps or {},
    }


def _plan() -> list[dict]:
    weights = _resource(BUCKET, "w", {"bucket": "w", "tags": {"llm-serving/data": "model-weights"}})
    logs = _resource(BUCKET, "l", {"bucket": "l", "tags": {"llm-serving/data": "access-logs"}})
    sse = _resource(
        SSE,
        "w-sse",
        {"bucket": "w-id", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        {"bucket": [weights["urn"]]},
    )
    policy = _resource(
        ROLE_POLICY,
        "read",
        {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn"}]})},
    )
    return [weights, logs, sse, policy]


def test_paths_walk_keys_indices_and_quoted_keys():
    assert parse_path('spec.template.metadata.labels["app.kubernetes.io/component"]') == [
        "spec",
        "template",
        "metadata",
        "labels",
        "app.kubernetes.io/component",
    ]
    assert parse_path("rules[0].applyServerSideEncryptionByDefault") == [
        "rules",
        0,
        "applyServerSideEncryptionByDefault",
    ]
    with pytest.raises(CatalogueError, match="bad path"):
        parse_path("rules[x]")


def test_selectors_pick_by_type_and_property_never_by_name():
    plan = _plan()
    weights = where(BUCKET, Eq('tags["llm-serving/data"]', "model-weights"))
    assert weights.matches(plan) == [0]
    assert where(BUCKET, Not(Eq('tags["llm-serving/data"]', "model-weights"))).matches(plan) == [1]
    assert where(BUCKET, pick="all").matches(plan) == [0, 1]
    assert where(BUCKET, pick=5).matches(plan) == []
    assert where(ROLE_POLICY, Contains("policy", "s3:GetObject")).matches(plan) == [3]
    assert Attached(SSE, "bucket", weights).matches(plan) == [2]
    assert Linked(where(SSE), "bucket").matches(plan) == [0]


def test_edits_set_delete_append_multiply_and_drop():
    document = {"a": {"b": [1, 2]}, "n": 3, "items": [{"type": "x"}, {"type": "y"}]}
    Set("a.c", True).edit(document)
    Append("a.b", 3).edit(document)
    Delete("a.b[0]").edit(document)
    Multiply("n", 10).edit(document)
    DropWhere("items", Eq("type", "x")).edit(document)
    Each("items", Eq("type", "y"), Set("seen", True)).edit(document)
    assert document == {"a": {"b": [2, 3], "c": True}, "n": 30, "items": [{"type": "y", "seen": True}]}
    with pytest.raises(CatalogueError, match="no item meets"):
        Each("items", Eq("type", "z"), Set("seen", True)).edit(document)
    with pytest.raises(CatalogueError, match="nothing to delete"):
        Delete("a.missing").edit(document)
    with pytest.raises(CatalogueError, match="not a number"):
        Multiply("a", 2).edit(document)


def test_sub_rewrites_a_string_whatever_it_is_now():
    document = {"image": "ghcr.io/kedacore/keda:2.20.0", "n": 1}
    Sub("image", r"^[^/]+", "registry.example.net").edit(document)
    Sub("image", r":[^:/@]+$", "").edit(document)
    assert document["image"] == "registry.example.net/kedacore/keda"
    with pytest.raises(CatalogueError, match="does not match"):
        Sub("image", r"@sha256:", "").edit(document)
    with pytest.raises(CatalogueError, match="not a string"):
        Sub("n", r"1", "2").edit(document)


def test_a_doc_edit_rewrites_the_json_string_of_a_policy():
    mutation = one(
        "x",
        "c",
        "d",
        where(ROLE_POLICY),
        doc("policy", Set("Statement[0].Action", "*"), Set("Statement[0].Resource", "*")),
    )
    mutant = mutate(_plan(), mutation)
    policy = json.loads(mutant.resources[3]["inputs"]["policy"])
    assert policy["Statement"][0] == {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert mutant.targets == {_urn(ROLE_POLICY, "read")}


def test_removal_names_the_resource_and_its_guarded_resource():
    weights = where(BUCKET, Eq('tags["llm-serving/data"]', "model-weights"))
    mutation = one("x", "c", "d", Attached(SSE, "bucket", weights), Remove(), names=(weights,))
    mutant = mutate(_plan(), mutation)
    assert [r["type"] for r in mutant.resources] == [BUCKET, BUCKET, ROLE_POLICY]
    assert mutant.targets == {_urn(SSE, "w-sse"), _urn(BUCKET, "w")}


def test_an_added_clone_keeps_provider_and_parent_and_depends_on_its_targets():
    logs = where(BUCKET, Eq('tags["llm-serving/data"]', "access-logs"))
    mutation = one(
        "x",
        "c",
        "d",
        where(SSE),
        AddClone(
            type="aws:s3/bucketAclV2:BucketAclV2",
            suffix="acl",
            inputs={"acl": "public-read", "copied": From(logs, "bucket")},
            deps={"bucket": logs},
        ),
    )
    plan = _plan()
    mutant = mutate(plan, mutation)
    added = mutant.resources[3]
    assert added["urn"] == _urn("aws:s3/bucketAclV2:BucketAclV2", "w-sse-acl")
    assert (added["parent"], added["provider"]) == (plan[2]["parent"], plan[2]["provider"])
    assert added["inputs"] == {"acl": "public-read", "copied": "l", "bucket": "l-id"}
    assert added["property_dependencies"] == {"bucket": [plan[1]["urn"]]}
    assert added["dependencies"] == [plan[1]["urn"]]
    assert mutant.targets == {added["urn"]}


def test_a_clone_pointed_at_another_target_moves_its_dependency_and_reference():
    plan = _plan()
    plan[3]["inputs"]["role"] = "r1"
    roles = [_resource("aws:iam/role:Role", name, {"description": name}) for name in ("r1", "r2")]
    plan[3]["property_dependencies"] = {"role": [roles[0]["urn"]]}
    plan[3]["dependencies"] = [roles[0]["urn"]]
    plan += roles
    second = where("aws:iam/role:Role", Eq("description", "r2"))
    mutant = mutate(plan, one("x", "c", "d", where(ROLE_POLICY), AddClone(deps={"role": second})))
    added = mutant.resources[4]
    assert added["inputs"]["role"] == "r2"
    assert added["property_dependencies"] == {"role": [roles[1]["urn"]]}
    assert added["dependencies"] == [roles[1]["urn"]]


def test_deleting_an_input_drops_the_dependency_it_was_computed_from():
    mutant = mutate(_plan(), one("x", "c", "d", where(SSE), Delete("bucket")))
    assert mutant.resources[2]["property_dependencies"] == {}
    assert mutant.resources[2]["dependencies"] == []


def test_a_resource_option_is_set_beside_the_inputs():
    mutant = mutate(_plan(), one("x", "c", "d", where(BUCKET), Option("protect", False)))
    assert mutant.resources[0]["protect"] is False


def test_a_selector_that_matches_nothing_or_a_no_op_is_a_catalogue_error():
    with pytest.raises(CatalogueError, match="nothing matches"):
        mutate(_plan(), one("x", "c", "d", where("aws:budgets/budget:Budget"), Remove()))
    with pytest.raises(CatalogueError, match="unchanged"):
        mutate(_plan(), one("x", "c", "d", where(BUCKET), Set("bucket", "w")))
    with pytest.raises(CatalogueError, match="`names` matches nothing"):
        mutate(_plan(), one("x", "c", "d", where(BUCKET), Set("bucket", "v"), names=(where("nope"),)))


def test_selected_by_finds_the_workloads_a_pod_selector_covers():
    provider = "urn:k8s-provider"

    def k8s(type_: str, name: str, spec: dict) -> dict:
        return {
            "urn": name,
            "type": type_,
            "name": name,
            "provider": provider,
            "inputs": {"metadata": {"namespace": "ns"}, "spec": spec},
        }

    deployment = k8s(
        "kubernetes:apps/v1:Deployment", "d", {"template": {"metadata": {"labels": {"app": "m", "x": "y"}}}}
    )
    other = k8s("kubernetes:apps/v1:Deployment", "o", {"template": {"metadata": {"labels": {"app": "n"}}}})
    policy = k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np", {"podSelector": {"matchLabels": {"app": "m"}}})
    assert SelectedBy(where("kubernetes:networking.k8s.io/v1:NetworkPolicy")).matches([deployment, other, policy]) == [
        0
    ]


def _verdict(*violations: Violation) -> PolicyVerdict:
    return PolicyVerdict(pack="p", version="1", policies=[], config={}, violations=list(violations))


def test_a_mutant_is_killed_only_by_a_mandatory_violation_naming_a_target():
    mutant = mutate(_plan(), one("x", "c", "d", where(BUCKET), Set("bucket", "v")))
    target = _urn(BUCKET, "w")
    elsewhere = Violation("p1", "mandatory", "high", _urn(BUCKET, "l"), "m")
    advisory = Violation("p2", "advisory", "high", target, "m")
    naming = Violation("p3", "mandatory", "high", target, "m")
    survived = judge(mutant, _verdict(elsewhere, advisory), "prod")
    assert (survived.killed, survived.exit_code) == (False, 1)
    assert survived.reason == "mandatory violations name other resources: p1 on l"
    assert judge(mutant, _verdict(), "prod").reason == "no mandatory violation"
    killed = judge(mutant, _verdict(elsewhere, naming), "prod")
    assert (killed.killed, killed.killers) == (True, ["p3"])


def test_a_missing_type_kills_only_when_the_mutation_declares_it():
    removal = one("x", "c", "d", where(BUCKET), Remove(), missing="Budget")
    mutant = mutate(_plan(), removal)
    stack_level = Violation("b", "mandatory", "high", None, "no AWS Budget caps this stack's spend.")
    lowercase = Violation("b", "mandatory", "high", None, "over budget.")
    assert judge(mutant, _verdict(stack_level), "prod").killed
    assert not judge(mutant, _verdict(lowercase), "prod").killed
    plain = mutate(_plan(), one("x", "c", "d", where(BUCKET), Remove()))
    assert not judge(plain, _verdict(stack_level), "prod").killed


def test_the_catalogue_is_large_enough_unique_and_well_formed():
    ids = [m.id for m in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert all(isinstance(m, Mutation) and m.steps and set(m.stacks) <= set(STACKS) for m in CATALOGUE)
    for stack in STACKS:
        assert sum(stack in m.stacks for m in CATALOGUE) >= 120


def test_every_registered_policy_has_a_regression_tagged_with_its_name():
    from policies.registry import ALL_POLICIES

    tagged = {m.cls.removeprefix("policy:") for m in CATALOGUE if m.cls.startswith("policy:")}
    assert sorted(p.name for p in ALL_POLICIES if p.name not in tagged) == []
    assert sorted(tagged - {p.name for p in ALL_POLICIES}) == []  # no tag of a renamed or removed policy


def test_the_chart_declared_controllers_are_mutated_in_every_stack():
    for stack in STACKS:
        assert sum(m.cls == "controllers" and stack in m.stacks for m in CATALOGUE) >= 10


def test_a_policy_must_fire_in_some_stack_not_in_each():
    from tests.mutation.harness import Outcome, StackReport, unfired_policies

    mutation = CATALOGUE[0]
    policies = [{"name": "floor", "enforcement": "mandatory"}, {"name": "hint", "enforcement": "advisory"}]
    prod = StackReport("prod", [Outcome(mutation, "prod", killed=True, killers=["floor"])], 1.0, policies)
    dev = StackReport("dev", [Outcome(mutation, "dev", reason="no mandatory violation")], 1.0, policies)
    assert unfired_policies([prod, dev]) == []
    assert unfired_policies([dev]) == ["floor"]
