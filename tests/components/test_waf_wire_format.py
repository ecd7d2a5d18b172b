"""The WAF resources are declared from wire-format documents (components/waf.py says why); these
tests keep their names honest against the installed pulumi-aws SDK, and check the program never
loads `pulumi_aws.wafv2` for it.

Every key the program registers for the three wafv2 types, at every depth, must be the wire name
(`@pulumi.getter(name=...)`, else the python name) of a property of the typed `*Args` class the
generated resource would have sent; nested classes come from each property's type hint.
"""

from __future__ import annotations

import collections.abc
import subprocess
import sys
import textwrap
import types
import typing
from functools import cache
from typing import Any

import pulumi
import pulumi_aws.wafv2 as wafv2
import pytest
from conftest import ROOT, run_stack

from components.waf import WEB_ACL_ASSOCIATION_TYPE, WEB_ACL_LOGGING_CONFIGURATION_TYPE, WEB_ACL_TYPE
from llmstack import offline

ARGS_OF_TYPE: dict[str, type] = {
    WEB_ACL_TYPE: wafv2.WebAclArgs,
    WEB_ACL_ASSOCIATION_TYPE: wafv2.WebAclAssociationArgs,
    WEB_ACL_LOGGING_CONFIGURATION_TYPE: wafv2.WebAclLoggingConfigurationArgs,
}


def _is_input_type(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "_pulumi_input_type")


@cache
def wire_properties(args_cls: type) -> dict[str, Any]:
    """Wire name -> type hint of each property of a `@pulumi.input_type` class."""
    # pulumi.Input is Union[T, Awaitable[T], "Output[T]"]: the forward reference needs Output and T.
    localns = {"Output": pulumi.Output, "T": type(None)}
    properties = {}
    for py_name, prop in vars(args_cls).items():
        if isinstance(prop, property) and prop.fget is not None:
            hints = typing.get_type_hints(prop.fget, globalns=vars(sys.modules[args_cls.__module__]), localns=localns)
            properties[getattr(prop.fget, "_pulumi_name", py_name)] = hints["return"]
    return properties


def alternatives(hint: Any) -> list[Any]:
    """The shapes a value of `hint` may take: Optional / Union / pulumi.Input unwrapped, `*ArgsDict`
    TypedDicts dropped (the `*Args` class in the same Union names the same properties)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return [shape for arg in typing.get_args(hint) for shape in alternatives(arg)]
    if origin is collections.abc.Awaitable or origin is pulumi.Output or hint is type(None):
        return []  # the other members of pulumi.Input's Union carry the same T
    if typing.is_typeddict(hint):
        return []
    return [hint]


def wire_errors(value: Any, hint: Any, path: str) -> list[str]:
    """Every key in `value` (at any depth) that `hint` does not declare, named by its path."""
    shapes = alternatives(hint)
    if isinstance(value, dict):
        classes = [shape for shape in shapes if _is_input_type(shape)]
        if classes:
            (args_cls,) = classes
            properties = wire_properties(args_cls)
            errors = []
            for key, item in value.items():
                if key not in properties:
                    errors.append(f"{path}.{key}: not a property of {args_cls.__name__}")
                else:
                    errors.extend(wire_errors(item, properties[key], f"{path}.{key}"))
            return errors
        if any(typing.get_origin(shape) is collections.abc.Mapping for shape in shapes):
            return []  # free-form keys (tags)
        return [f"{path}: an object where {hint} is expected"]
    if isinstance(value, list):
        sequences = [shape for shape in shapes if typing.get_origin(shape) is collections.abc.Sequence]
        if not sequences:
            return [f"{path}: a list where {hint} is expected"]
        (item_hint,) = typing.get_args(sequences[0])
        return [error for i, item in enumerate(value) for error in wire_errors(item, item_hint, f"{path}[{i}]")]
    return []


def registered_errors(run) -> list[str]:
    errors = []
    for resource in run.resources:
        if resource.type in ARGS_OF_TYPE:
            errors.extend(wire_errors(resource.inputs, ARGS_OF_TYPE[resource.type], resource.name))
    return errors


def test_prod_registers_only_wire_names_the_sdk_declares():
    run = run_stack("prod")
    assert {r.type for r in run.resources} >= set(ARGS_OF_TYPE)
    assert registered_errors(run) == []


def test_small_body_limit_statements_use_wire_names_too():
    # Neither stack's limit is within WAF's 64 KiB body inspection: this covers the or/size statements.
    run = run_stack("prod", lambda values: values["gateway"].update(max_body_kib=32))
    (acl, *_) = [r for r in run.resources if r.type == WEB_ACL_TYPE]
    assert "orStatement" in acl.inputs["rules"][-1]["statement"]
    assert registered_errors(run) == []


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        (
            {"associationConfig": {"requestBodies": [{"apiGateway": {"defaultSizeInspectionLimits": "KB_64"}}]}},
            "acl.associationConfig.requestBodies[0].apiGateway.defaultSizeInspectionLimits: "
            "not a property of WebAclAssociationConfigRequestBodyApiGatewayArgs",
        ),
        (
            {"rules": [{"statement": {"managedRuleGroupStatement": {"vendor_name": "AWS"}}}]},
            "acl.rules[0].statement.managedRuleGroupStatement.vendor_name: "
            "not a property of WebAclRuleStatementManagedRuleGroupStatementArgs",
        ),
        (
            {"defaultAction": {"allow": {"customRequestHandlings": {}}}},
            "acl.defaultAction.allow.customRequestHandlings: not a property of WebAclDefaultActionAllowArgs",
        ),
        ({"scope": {"regional": True}}, "acl.scope: an object where "),
        ({"defaultAction": [{"allow": {}}]}, "acl.defaultAction: a list where "),
    ],
)
def test_a_wrong_key_at_any_depth_is_named_by_its_path(inputs, error):
    (only,) = wire_errors(inputs, wafv2.WebAclArgs, "acl")
    assert only.startswith(error)


def test_registrations_carry_the_plugin_version_the_generated_classes_send(monkeypatch):
    # The generated classes merge pulumi-aws's default options (plugin version, download URL) into
    # every registration; plan.json does not record them, so they are checked on the requests.
    versions: dict[str, set[tuple[str, str]]] = {}
    register = offline.RecordingMonitor.RegisterResource

    def spy(self, request):
        versions.setdefault(request.type, set()).add((request.version, request.pluginDownloadURL))
        return register(self, request)

    monkeypatch.setattr(offline.RecordingMonitor, "RegisterResource", spy)
    run_stack("dev")
    (generated,) = versions["aws:cloudwatch/logGroup:LogGroup"]
    assert generated[0]
    for type_token in ARGS_OF_TYPE:
        assert versions[type_token] == {generated}


def test_tags_keys_are_free_form():
    assert wire_errors({"tags": {"Name": "x", "component": "gateway"}}, wafv2.WebAclArgs, "acl") == []


# Runs the dev program in a fresh interpreter and reports which pulumi_aws.wafv2 modules were
# executed. `import pulumi_aws` registers `pulumi_aws.wafv2` in sys.modules as a lazy placeholder,
# so its name alone proves nothing: the module ran iff its submodules were imported. The probe then
# touches aws.wafv2.WebAcl, to show it sees a real import.
PROBE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, "tests")
    from conftest import run_stack

    def loaded():
        return sorted(name for name in sys.modules if name.startswith("pulumi_aws.wafv2."))

    run = run_stack("dev")
    assert any(r.type.startswith("aws:wafv2/") for r in run.resources)
    print(loaded())
    import pulumi_aws as aws
    aws.wafv2.WebAcl
    print(loaded())
    """
)


def test_the_program_never_loads_pulumi_aws_wafv2():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    after_program, after_touch = result.stdout.splitlines()[-2:]
    assert after_program == "[]"
    assert "'pulumi_aws.wafv2.web_acl'" in after_touch
