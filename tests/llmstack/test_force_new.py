"""The force-new table: covers every type the plans use, names real SDK inputs, matches paths as documented."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import run_stack
from hypothesis import given
from hypothesis import strategies as st

from llmstack import force_new

TYPES: dict[str, dict[str, Any]] = force_new.table()["types"]
SDK_PACKAGES = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "random": "pulumi_random", "tls": "pulumi_tls"}
_REF = re.compile(r"ForwardRef\('([\w.]+Args)'\)")


def _skipped(type_token: str) -> bool:
    """Our own components and provider resources are never diffed against the table."""
    return type_token.startswith(("llm-serving:", "pulumi:providers:"))


@pytest.fixture(scope="module")
def plans() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """(type, inputs) of every resource the dev and prod programs register."""
    return {stack: [(r.type, dict(r.inputs)) for r in run_stack(stack).resources] for stack in ("dev", "prod")}


# --- coverage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_type_the_plan_uses_is_listed(plans, stack):
    used = {t for t, _ in plans[stack] if not _skipped(t)}
    assert used, "the program registered no resources"
    assert sorted(used - force_new.known_types()) == []


def test_every_listed_type_is_used_by_a_plan(plans):
    used = {t for stack in plans.values() for t, _ in stack}
    assert sorted(force_new.known_types() - used) == []


# --- the data file's shape ---------------------------------------------------------------------------


def test_sources_name_repo_ref_commit_and_method():
    sources = force_new.table()["sources"]
    assert set(sources) == {"aws", "kubernetes", "random", "tls"}
    for name, source in sources.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source["repo"]), name
        assert source["ref"] and source["how"], name
        if name != "aws":  # the AWS files were read at per-file versions, named per type
            assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name


@pytest.mark.parametrize("type_token", sorted(TYPES))
def test_entry_cites_its_source(type_token):
    entry = TYPES[type_token]
    assert entry["source"] in force_new.table()["sources"]
    assert entry["source"] == type_token.split(":", 1)[0]
    assert entry["file"].endswith(".go")
    if entry["source"] == "aws":
        assert entry["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", entry["commit"])
        assert entry["commit"] or entry.get("index_version")
        assert re.fullmatch(r"aws_[a-z0-9_]+", entry["terraform"]["resource"])


@pytest.mark.parametrize("type_token", sorted(TYPES))
def test_paths_are_sorted_indexfree_and_not_nested_in_each_other(type_token):
    paths = TYPES[type_token]["replace_on"]
    assert paths == sorted(set(paths))
    for path in paths:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*", path), path
        assert not [p for p in paths if p.startswith(path + ".")], f"{path} already covers its children"
    for conditional in TYPES[type_token].get("conditional", []):
        assert conditional["when"]
        assert force_new.forces_replacement(type_token, conditional["path"]) is None, conditional["path"]


# --- the paths exist in the installed SDKs -------------------------------------------------------------


def _resource_class(type_token: str) -> type | None:
    """The SDK class of a type, or None for a Kubernetes custom resource (no SDK class)."""
    package, module_path, name = type_token.split(":")
    root = SDK_PACKAGES[package]
    if package == "kubernetes":
        group, version = module_path.split("/")
        if "." in group and not group.endswith("k8s.io"):
            return None  # a CRD's group (elbv2.k8s.aws, keda.sh): only the metadata defaults apply
        module_name = f"{root}.{group.split('.')[0]}.{version}"
    else:
        module = module_path.split("/")[0]
        module_name = root if module == "index" else f"{root}.{module}_" if module == "lambda" else f"{root}.{module}"
    return getattr(importlib.import_module(module_name), name)


def _args_class(resource: type) -> type:
    home = sys.modules[resource.__module__]
    # pulumi names a resource's args *InitArgs where an input type already took the *Args name
    return getattr(home, resource.__name__ + "InitArgs", None) or getattr(home, resource.__name__ + "Args")


def _wire_names(args: type) -> dict[str, str]:
    """camelCase wire name -> Python parameter name of an *Args class."""
    names: dict[str, str] = {}
    for klass in args.__mro__:
        for attr, value in vars(klass).items():
            wire = getattr(value.fget, "_pulumi_name", None) if isinstance(value, property) else None
            if wire:
                names.setdefault(wire, attr)
    return names


def _nested_args(args: type, parameter: str) -> type | None:
    """The *Args type an input of `args` takes (through Optional/Sequence/Input wrappers), if any."""
    found = _REF.search(repr(inspect.signature(args.__init__).parameters[parameter].annotation))
    if not found:
        return None
    *modules, name = found.group(1).split(".")
    package = args.__module__.rsplit(".", 1)[0]
    if modules:  # e.g. `_meta.v1.ObjectMetaArgs`, relative to the SDK's root package
        package = ".".join([package.split(".")[0], *(m.lstrip("_") for m in modules)])
    return getattr(importlib.import_module(package), name)


def _walk(args: type, path: str) -> str | None:
    """None if every segment of `path` is an input of the type before it, else what is wrong."""
    current: type | None = args
    for depth, segment in enumerate(path.split(".")):
        if current is None:
            return f"{'.'.join(path.split('.')[:depth])} takes no object, so it has no {segment!r}"
        names = _wire_names(current)
        if segment not in names:
            return f"{segment!r} is not an input of {current.__name__} (has {sorted(names)})"
        current = _nested_args(current, names[segment])
    return None


def _listed_paths(type_token: str) -> list[str]:
    entry = TYPES[type_token]
    conditional = [c["path"] for c in entry.get("conditional", [])]
    return [*entry["replace_on"], *conditional, *entry.get("inputs_newer_than_source", [])]


SDK_TYPES = sorted(t for t in TYPES if _listed_paths(t))


@pytest.mark.parametrize("type_token", SDK_TYPES)
def test_every_listed_path_is_an_input_of_the_installed_sdk(type_token):
    resource = _resource_class(type_token)
    if resource is None:
        from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

        metadata = [p.removeprefix("metadata.") for p in _listed_paths(type_token) if p.startswith("metadata.")]
        assert len(metadata) == len(_listed_paths(type_token)), "a custom resource has no spec table"
        assert [p for p in metadata if _walk(ObjectMetaArgs, p)] == []
        return
    args = _args_class(resource)
    constructor = inspect.signature(resource._internal_init).parameters  # type: ignore[attr-defined]
    problems = []
    for path in _listed_paths(type_token):
        first = _wire_names(args).get(path.split(".")[0])
        if first not in constructor:
            problems.append(f"{path}: {resource.__name__}() takes no {first or path.split('.')[0]!r}")
        elif problem := _walk(args, path):
            problems.append(f"{path}: {problem}")
    assert problems == []


def test_the_sdk_check_can_fail():
    from pulumi_aws.eks import Cluster

    args = _args_class(Cluster)
    assert _walk(args, "vpcConfig.subnetIds") is None
    assert _walk(args, "vpcConfig.subnetId") is not None  # singular: not an input
    assert _walk(args, "name.first") is not None  # a string has no fields
    assert _walk(args, "vpc_config") is not None  # Python name, not the wire name


def _walk_plan(value: Any, segments: list[str]) -> Iterator[str]:
    """Shape mismatches met following `segments` through plan inputs (lists are stepped through)."""
    if not segments:
        return
    if isinstance(value, list):
        for item in value:
            yield from _walk_plan(item, segments)
    elif isinstance(value, dict):
        if segments[0] in value:
            yield from _walk_plan(value[segments[0]], segments[1:])
    else:
        yield f"{type(value).__name__} where {segments[0]!r} was expected"


def test_plan_inputs_have_the_shape_the_paths_assume(plans):
    """MaxItems:1 blocks are objects in pulumi-aws and the rest lists; either way the dotted path reaches in."""
    problems = []
    reached = 0
    for stack in plans.values():
        for type_token, inputs in stack:
            for path in force_new.replace_on(type_token):
                problems += [f"{type_token} {path}: {p}" for p in _walk_plan(inputs, path.split("."))]
                reached += any(force_new.forces_replacement(type_token, p) == path for p in _flatten(inputs))
    assert problems == []
    assert reached > 100  # the plans set most of the listed inputs; the names are the wire names


def _flatten(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix


# --- matching -------------------------------------------------------------------------------------------


def test_list_indices_are_ignored():
    assert force_new.forces_replacement("aws:eks/nodeGroup:NodeGroup", "subnetIds[1]") == "subnetIds"
    assert force_new.forces_replacement("aws:eks/nodeGroup:NodeGroup", "instanceTypes[0]") == "instanceTypes"
    assert force_new.forces_replacement("aws:autoscaling/tag:Tag", "tag.key") == "tag.key"
    assert force_new.forces_replacement("aws:autoscaling/tag:Tag", "tag[0].key") == "tag.key"


def test_whole_segments_only():
    assert force_new.forces_replacement("aws:eks/cluster:Cluster", "name") == "name"
    assert force_new.forces_replacement("aws:eks/cluster:Cluster", "names") is None
    assert force_new.forces_replacement("aws:iam/role:Role", "namePrefix") == "namePrefix"
    assert force_new.forces_replacement("aws:s3/bucket:Bucket", "bucketPrefix") == "bucketPrefix"
    assert force_new.forces_replacement("aws:autoscaling/tag:Tag", "tag.keyName") is None


def test_a_change_below_a_listed_path_matches_and_one_above_does_not():
    deployment = "kubernetes:apps/v1:Deployment"
    assert force_new.forces_replacement(deployment, "spec.selector.matchLabels.app") == "spec.selector"
    assert force_new.forces_replacement(deployment, "spec.selector.matchExpressions[0].values[1]") == "spec.selector"
    assert force_new.forces_replacement(deployment, "spec") is None
    assert force_new.forces_replacement("aws:eks/cluster:Cluster", "accessConfig") is None
    assert force_new.forces_replacement("kubernetes:core/v1:Secret", "stringData.token") == "stringData"


def test_unknown_type():
    assert force_new.replace_on("aws:nowhere/thing:Thing") == ()
    assert force_new.forces_replacement("aws:nowhere/thing:Thing", "name") is None
    assert "aws:nowhere/thing:Thing" not in force_new.known_types()
    assert isinstance(force_new.known_types(), frozenset)
    assert force_new.replace_on("kubernetes:yaml/v2:ConfigGroup") == ()  # listed, and forces nothing
    assert "kubernetes:yaml/v2:ConfigGroup" in force_new.known_types()


@given(
    type_token=st.sampled_from(sorted(t for t in TYPES if TYPES[t]["replace_on"])),
    data=st.data(),
    tail=st.lists(st.tuples(st.from_regex(r"[a-z][A-Za-z0-9]{0,8}", fullmatch=True), st.integers(0, 3)), max_size=3),
)
def test_anything_below_a_listed_path_matches_it(type_token, data, tail):
    path = data.draw(st.sampled_from(TYPES[type_token]["replace_on"]))
    below = path + "".join(f"[{i}].{segment}" for segment, i in tail)
    assert force_new.forces_replacement(type_token, below) == path


# --- what the cited sources say --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_token", "path", "expected"),
    [
        # internal/service/eks/cluster.go: name and role_arn ForceNew; version is updated in place
        ("aws:eks/cluster:Cluster", "name", "name"),
        ("aws:eks/cluster:Cluster", "roleArn", "roleArn"),
        ("aws:eks/cluster:Cluster", "version", None),
        ("aws:eks/cluster:Cluster", "vpcConfig.endpointPublicAccess", None),
        ("aws:eks/cluster:Cluster", "tags.Name", None),
        # internal/service/eks/node_group.go: scaling is in place, instance types are not
        ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.desiredSize", None),
        ("aws:eks/nodeGroup:NodeGroup", "instanceTypes[0]", "instanceTypes"),
        ("aws:eks/nodeGroup:NodeGroup", "launchTemplate.version", None),
        ("aws:eks/nodeGroup:NodeGroup", "launchTemplate.id", "launchTemplate.id"),
        # internal/service/s3/bucket.go
        ("aws:s3/bucket:Bucket", "bucket", "bucket"),
        ("aws:s3/bucket:Bucket", "tags.team", None),
        # internal/service/ec2/ec2_launch_template.go: only the name; tags are updated in place
        ("aws:ec2/launchTemplate:LaunchTemplate", "tags.Name", None),
        ("aws:ec2/launchTemplate:LaunchTemplate", "tagSpecifications[0].tags.Name", None),
        ("aws:ec2/launchTemplate:LaunchTemplate", "name", "name"),
        # internal/service/apigateway/api_key.go: a newer version made name updatable; value still forces new
        ("aws:apigateway/apiKey:ApiKey", "name", None),
        ("aws:apigateway/apiKey:ApiKey", "value", "value"),
        # internal/service/ec2/transitgateway_.go: amazon_side_asn became updatable; multicast_support did not
        ("aws:ec2transitgateway/transitGateway:TransitGateway", "amazonSideAsn", None),
        ("aws:ec2transitgateway/transitGateway:TransitGateway", "multicastSupport", "multicastSupport"),
        # internal/service/elbv2: target group port/protocol/vpc are fixed; health checks are not
        ("aws:lb/targetGroup:TargetGroup", "port", "port"),
        ("aws:lb/targetGroup:TargetGroup", "healthCheck.path", None),
        ("aws:lb/loadBalancer:LoadBalancer", "internal", "internal"),
        ("aws:lb/listener:Listener", "port", None),
        # pulumi-kubernetes provider/pkg/provider/diff.go
        ("kubernetes:apps/v1:Deployment", "spec.selector", "spec.selector"),
        ("kubernetes:apps/v1:Deployment", "spec.replicas", None),
        ("kubernetes:apps/v1:Deployment", "spec.template.spec.containers[0].image", None),
        ("kubernetes:apps/v1:Deployment", "metadata.name", "metadata.name"),
        ("kubernetes:apps/v1:Deployment", "metadata.labels.app", None),
        ("kubernetes:core/v1:ConfigMap", "data.config.yaml", "data"),
        ("kubernetes:core/v1:Service", "spec.clusterIP", "spec.clusterIP"),
        ("kubernetes:core/v1:Service", "spec.ports[0].port", None),
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "roleRef.name", "roleRef"),
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "subjects[0].name", None),
        ("kubernetes:policy/v1:PodDisruptionBudget", "spec.minAvailable", None),
        # terraform-provider-random / -tls: RequiresReplace plan modifiers
        ("random:index/randomPassword:RandomPassword", "length", "length"),
        ("random:index/randomId:RandomId", "keepers.revision", "keepers"),
        ("tls:index/privateKey:PrivateKey", "algorithm", "algorithm"),
        ("tls:index/selfSignedCert:SelfSignedCert", "subject.commonName", "subject"),
        ("tls:index/selfSignedCert:SelfSignedCert", "earlyRenewalHours", None),
    ],
)
def test_source_spot_checks(type_token, path, expected):
    assert force_new.forces_replacement(type_token, path) == expected


def test_a_conditional_rule_is_named_for_paths_at_or_below_it_only():
    rule = force_new.may_replace("aws:eks/cluster:Cluster", "encryptionConfig.resources[0]")
    assert rule == "`encryptionConfig`: CustomizeDiff ForceNewIfChange: removing a set encryption_config"
    assert force_new.may_replace("aws:eks/cluster:Cluster", "encryptionConfigX") is None
    assert force_new.may_replace("aws:eks/cluster:Cluster", "version") is None
    assert force_new.may_replace("aws:not/a:Type", "anything") is None
    # A conditional path is never also a certain one.
    assert force_new.forces_replacement("aws:eks/cluster:Cluster", "encryptionConfig.resources") is None
