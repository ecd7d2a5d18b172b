"""The report's architecture diagram: what it draws from a plan, and that Mermaid's own parser reads it.

Content tests read the diagram with `read()` below; the parser tests run Mermaid (tests/mermaid,
installed with `npm ci` once per session) and check that it reads the same nodes, groups, lines
and classes, so what the content tests assert is what Mermaid draws.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_stack, stack_values
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from components.conventions import MODEL_LABEL
from llmstack import diagram
from llmstack.cli import main
from llmstack.errors import UsageError
from llmstack.planfile import check_plan
from stacks.config import PlatformConfig, parse_platform_config

MERMAID = ROOT / "tests" / "mermaid"

# --- reading a diagram ------------------------------------------------------------------------------

_SUBGRAPH = re.compile(r'^\s*subgraph (\w+)\["(.*)"\]$')
_NODE = re.compile(r'^\s*(\w+)(\["|\(\["|\[\(")(.*)("\]|"\]\)|"\)\])$')
_EDGE = re.compile(r'^\s*(\w+) (-->|-\.->|==>|---|~~~)(?:\|"(.*)"\|)? (\w+)$')


def shown(label: str) -> list[str]:
    """A label as a reader sees it: one string per <br> line, Mermaid's entity codes decoded."""

    def entity(match: re.Match[str]) -> str:
        code = match.group(1)
        return html.unescape(f"&#{code};" if code.isdigit() else f"&{code};")

    return [re.sub(r"#(\w+);", entity, line) for line in label.split("<br>")]


@dataclass
class Read:
    groups: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> (title, parent)
    nodes: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # id -> (lines, group)
    edges: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # source, arrow, label, target
    classed: set[str] = field(default_factory=set)
    styled_links: set[int] = field(default_factory=set)
    bands: list[str] = field(default_factory=list)

    def title(self, group: str) -> str:
        return self.groups[group][0]

    def group(self, title: str) -> str:
        return next(g for g, (t, _) in self.groups.items() if t == title)

    def node(self, group_title: str, first_line: str) -> str:
        group = self.group(group_title)
        return next(n for n, (lines, g) in self.nodes.items() if g == group and lines[0] == first_line)

    def lines(self, node: str) -> list[str]:
        return self.nodes[node][0]

    def visible(self) -> list[tuple[str, str, str | None, str]]:
        return [e for e in self.edges if e[1] != "~~~"]


def read(lines: list[str]) -> Read:
    """Our diagram's structure, from its text; every line must be one of the forms we write."""
    assert lines[0] == "```mermaid" and lines[1] == "flowchart TB" and lines[-1] == "```"
    result = Read()
    stack: list[str] = []
    for line in lines[2:-1]:
        if match := _SUBGRAPH.match(line):
            result.groups[match[1]] = (shown(match[2])[0], stack[-1] if stack else None)
            if not stack:
                result.bands.append(match[1])
            stack.append(match[1])
        elif line.strip() == "end":
            stack.pop()
        elif line.strip() == "direction TB" or line.strip().startswith("classDef "):
            continue
        elif match := _NODE.match(line):
            assert stack, f"node outside every group: {line}"
            result.nodes[match[1]] = (shown(match[3]), stack[-1])
        elif match := _EDGE.match(line):
            result.edges.append((match[1], match[2], shown(match[3])[0] if match[3] else None, match[4]))
        elif line.strip().startswith("class "):
            result.classed |= set(line.split()[1].split(","))
        elif line.strip().startswith("linkStyle "):
            result.styled_links |= {int(i) for i in line.split()[1].split(",")}
        else:
            raise AssertionError(f"unexpected diagram line: {line!r}")
    assert not stack
    return result


# --- plans ----------------------------------------------------------------------------------------------


def plan_document(stack: str, out: Path) -> dict[str, Any]:
    assert main(["plan", "--stack", stack, "--out", str(out)]) == 0
    return json.loads((out / "plan.json").read_text())


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Any]:
    """The plan.json and report.md of `llmstack plan` for prod and dev."""
    found = {}
    for stack in ("prod", "dev"):
        out = tmp_path_factory.mktemp(stack)
        found[stack] = plan_document(stack, out)
        found[f"{stack}-report"] = (out / "report.md").read_text()
    return found


@pytest.fixture(scope="module")
def prod(plans) -> dict[str, Any]:
    return plans["prod"]


@pytest.fixture(scope="module")
def prod_config() -> PlatformConfig:
    return parse_platform_config(stack_values("prod"))


def urn_of(document: dict[str, Any], name: str) -> str:
    return next(r["urn"] for r in document["resources"] if r["name"] == name)


# --- what it draws ------------------------------------------------------------------------------------------


def test_the_report_carries_the_diagram(plans):
    for stack in ("prod", "dev"):
        assert "\n".join(diagram.mermaid(plans[stack])) in plans[f"{stack}-report"]


def test_the_places_are_bands_in_order_with_the_targets_inside_the_data_centre(prod):
    drawn = read(diagram.mermaid(prod))
    assert [drawn.title(b) for b in drawn.bands] == ["us-east-1 · primary", "data centre dc1", "eu-west-1"]
    inside = {title: drawn.title(parent) for title, parent in drawn.groups.values() if parent}
    assert inside == {
        "dc1 · Kubernetes": "data centre dc1",
        "dc1-rack2 · EKS hybrid nodes in us-east-1": "data centre dc1",
    }


def test_one_box_per_model_per_place_with_the_stack_files_gpu_shards_and_replicas(prod, prod_config):
    drawn = read(diagram.mermaid(prod))
    targets = {t.name: t for t in prod_config.onprem_targets}
    expected = []
    for model in prod_config.models:
        scaling = model.autoscaling
        low, high = (
            (scaling.min_replicas, scaling.max_replicas) if scaling.mode != "none" else (scaling.min_replicas,) * 2
        )
        replicas = f"{low}–{high} replicas" if low != high else f"{low} replica{'s' if low != 1 else ''}"
        size = f"{model.shards} shard{'s' if model.shards != 1 else ''} · {replicas}"
        for region in prod_config.regions:
            if region.name in model.regions:
                group = next(g for g in region.node_groups if g.name == model.node_group)
                title = f"{region.name} · primary" if region.primary else region.name
                expected.append((title, (model.name, f"{group.resolved_instance_type} · {group.gpu.upper()}", size)))
        for name in model.targets:
            target = targets[name]
            kind = f"EKS hybrid nodes in {target.hybrid.region}" if target.hybrid else "Kubernetes"
            expected.append((f"{name} · {kind}", (model.name, target.gpu.upper(), size)))
    servers = [
        (drawn.title(group), tuple(lines))
        for lines, group in drawn.nodes.values()
        if len(lines) == 3 and "shard" in lines[2]
    ]
    assert sorted(servers) == sorted(expected)
    assert len(expected) == 6  # prod's four models in six places: the test reads the stack file, not nothing
    assert ("us-east-1 · primary", ("llama-3-70b-instruct", "p5.48xlarge · H100", "4 shards · 1–4 replicas")) in servers


def test_the_request_path_of_each_region_ends_at_the_servers_behind_its_gateway(prod):
    drawn = read(diagram.mermaid(prod))
    edges = drawn.visible()
    for region, served in (
        ("us-east-1 · primary", ["llama-3-70b-instruct", "llama-3-8b-instruct"]),
        ("eu-west-1", ["llama-3-8b-instruct"]),
    ):
        path = [drawn.node(region, label) for label in ("API clients", "WAF web ACL", "API Gateway · v1")]
        nlb = drawn.node(region, "VPC link → internal NLB")
        for source, target in zip(path, [*path[1:], nlb], strict=True):
            assert (source, "-->", None, target) in edges
        behind = {target for source, _, _, target in edges if source == nlb}
        assert behind == {drawn.node(region, model) for model in served}
        weights = drawn.node(region, "weights · S3")
        assert {t for s, arrow, _, t in edges if s == weights and arrow == "-.->"} == behind
        drawn.node(region, "Transit Gateway")
    # The batch model on dc1-rack2 has no gateway route: only the data centre's network calls it.
    batch = drawn.node("dc1-rack2 · EKS hybrid nodes in us-east-1", "llama-3-8b-batch")
    assert {(s, a) for s, a, _, t in edges if t == batch} == {(drawn.node("data centre dc1", "dc1-ingress"), "-->")}


def test_on_prem_servers_read_the_primary_bucket_except_the_sensitive_one(prod):
    drawn = read(diagram.mermaid(prod))
    store = drawn.node("dc1 · Kubernetes", "weights · object store")
    assert drawn.lines(store) == ["weights · object store", "objects.dc1.example.internal"]
    fed = [t for s, arrow, _, t in drawn.edges if s == store and arrow == "-.->"]
    assert fed == [drawn.node("dc1 · Kubernetes", "mistral-7b-private")]
    us, dc, eu = drawn.bands
    assert (us, "-.->", "weights via VPC endpoint", dc) in drawn.edges
    assert (us, "==>", "weight replication", eu) in drawn.edges


def test_each_regions_vpn_joins_it_to_the_data_centre(prod):
    drawn = read(diagram.mermaid(prod))
    us, dc, eu = drawn.bands
    links = [(s, label, t) for s, arrow, label, t in drawn.edges if arrow == "---"]
    # Declared from the upper band to the lower one.
    assert sorted(links) == sorted([(us, "Site-to-Site VPN", dc), (dc, "Site-to-Site VPN", eu)])


def test_direct_connect_is_drawn_beside_the_vpn():
    direct = {"connection_id": "dxcon-fgq9nnsm", "vlan": 101, "bgp_asn": 65010, "amazon_side_asn": 64600}
    run = run_stack("prod", lambda v: v["datacentre"].update(direct_connect=direct))
    drawn = read(diagram.mermaid({"resources": [r.to_json() for r in run.resources]}))
    us, dc, eu = drawn.bands
    links = sorted((s, label, t) for s, arrow, label, t in drawn.edges if arrow == "---")
    assert links == sorted(
        [
            (us, "Direct Connect", dc),
            (us, "Site-to-Site VPN", dc),
            (dc, "Direct Connect", eu),
            (dc, "Site-to-Site VPN", eu),
        ]
    )


def test_no_line_but_a_band_to_band_one_leaves_its_band(prod):
    """What keeps each band laid out on its own, and so narrow."""
    drawn = read(diagram.mermaid(prod))

    def band(item: str) -> str:
        group = item if item in drawn.groups else drawn.nodes[item][1]
        while drawn.groups[group][1] is not None:
            group = drawn.groups[group][1] or group
        return group

    for source, _, label, target in drawn.edges:
        if band(source) != band(target):
            assert source in drawn.bands and target in drawn.bands, (source, target)
        else:
            assert label is None, (source, label, target)


def test_a_place_wraps_its_servers_after_max_per_row(prod):
    """Five more servers in us-east-1 (a hand-edited plan): rows of MAX_PER_ROW, by invisible links."""
    document = copy.deepcopy(prod)
    template = next(r for r in document["resources"] if r["name"] == "us-east-1-llama-3-8b-instruct-deployment")
    for n in range(5):
        extra = copy.deepcopy(template)
        extra["urn"] += f"-{n}"
        extra["inputs"]["metadata"]["labels"][MODEL_LABEL] = f"extra-{n}"
        extra["inputs"]["metadata"]["name"] = f"extra-{n}"
        document["resources"].append(extra)
    drawn = read(diagram.mermaid(document))
    region = drawn.group("us-east-1 · primary")
    servers = [n for n, (lines, g) in drawn.nodes.items() if g == region and "shard" in lines[-1]]
    hidden = {(s, t) for s, arrow, _, t in drawn.edges if arrow == "~~~"}
    assert len(servers) == 7
    assert set(zip(servers, servers[diagram.MAX_PER_ROW :], strict=False)) <= hidden


def test_dev_is_one_region_without_a_data_centre(plans):
    drawn = read(diagram.mermaid(plans["dev"]))
    assert [drawn.title(b) for b in drawn.bands] == ["us-east-1 · primary"]
    server = drawn.node("us-east-1 · primary", "llama-3-8b-instruct")
    # dev's KEDA scaler may scale to zero.
    assert drawn.lines(server) == ["llama-3-8b-instruct", "g5.2xlarge · A10G", "1 shard · 0–2 replicas"]


# --- highlighting -------------------------------------------------------------------------------------------


def test_nothing_changed_nothing_highlighted(prod):
    lines = diagram.mermaid(prod)
    assert not any(line.strip().startswith(("classDef", "class ", "linkStyle")) for line in lines)


def test_a_changed_resource_highlights_the_nearest_box_that_stands_for_it(prod):
    def marked(*names: str) -> set[str]:
        drawn = read(diagram.mermaid(prod, {urn_of(prod, name) for name in names}))
        return {drawn.lines(n)[0] if n in drawn.nodes else drawn.title(n) for n in drawn.classed}

    assert marked("us-east-1-llama-3-8b-instruct-deployment") == {"llama-3-8b-instruct"}
    # The scaler sets the replica range on the box; the node group its instance type.
    assert marked("us-east-1-autoscaling-llama-3-70b-instruct-scaledobject") == {"llama-3-70b-instruct"}
    assert marked("us-east-1-gpu-h100-nodes") == {"llama-3-70b-instruct"}
    assert marked("eu-west-1-gateway-waf-acl") == {"WAF web ACL"}
    assert marked("eu-west-1-private-path-nlb") == {"VPC link → internal NLB"}
    assert marked("us-east-1-weights-bucket") == {"weights · S3"}
    # Nothing drawn stands for a VPC: its region does; for an on-prem namespace: its target.
    assert marked("us-east-1-network-vpc") == {"us-east-1 · primary"}
    assert marked("dc1-serving-namespace") == {"dc1 · Kubernetes"}
    assert marked("dc1-rack2-hybrid-nodes-access") == {"dc1-rack2 · EKS hybrid nodes in us-east-1"}


def test_a_changed_link_highlights_the_line_and_the_gateway(prod):
    lines = diagram.mermaid(prod, {urn_of(prod, "eu-west-1-datacentre-vpn")})
    drawn = read(lines)
    assert {drawn.lines(n)[0] for n in drawn.classed} == {"Transit Gateway"}
    assert drawn.nodes[next(iter(drawn.classed))][1] == drawn.group("eu-west-1")
    us, dc, eu = drawn.bands
    assert [drawn.edges[i] for i in drawn.styled_links] == [(dc, "---", "Site-to-Site VPN", eu)]
    replication = read(diagram.mermaid(prod, {urn_of(prod, "prod-weights-replication-config")}))
    assert [replication.edges[i] for i in replication.styled_links] == [(us, "==>", "weight replication", eu)]


def test_a_deleted_resource_highlights_what_it_was_under(prod):
    stack = "urn:pulumi:prod::llm-serving::pulumi:pulumi:Stack$"
    gone_pdb = (
        f"{stack}llm-serving:serving:ModelServer$kubernetes:policy/v1:PodDisruptionBudget::dc1-mistral-7b-private-pdb"
    )
    gone_server = f"{stack}llm-serving:platform:RegionalPlatform$llm-serving:serving:ModelServer::eu-west-1-qwen-72b"
    gone_everything = "urn:pulumi:prod::llm-serving::aws:s3/bucket:Bucket::eu-west-1-old-bucket"
    for urn, expected in (
        (gone_pdb, "mistral-7b-private"),
        (gone_server, "eu-west-1"),
        (gone_everything, "eu-west-1"),
    ):
        drawn = read(diagram.mermaid(prod, {urn}))
        assert {drawn.lines(n)[0] if n in drawn.nodes else drawn.title(n) for n in drawn.classed} == {expected}, urn
    unknown = diagram.mermaid(prod, {"urn:pulumi:prod::llm-serving::random:index/randomId:RandomId::elsewhere"})
    assert read(unknown).classed == set()


# --- hand-edited plans ------------------------------------------------------------------------------------

HOSTILE = 'x"] --> pwned["#1 <b>&amp;</b> `` ``` |pipe| {brace} (paren) [1]\nend'


def hostile_plan(prod: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(prod)
    for resource in document["resources"]:
        if resource["name"] == "eu-west-1-llama-3-8b-instruct-deployment":
            resource["inputs"]["metadata"]["labels"][MODEL_LABEL] = HOSTILE
    return document


def test_a_hostile_model_name_stays_one_label(prod):
    lines = diagram.mermaid(hostile_plan(prod))
    drawn = read(lines)  # every line still one of ours: nothing broke out of the label
    node = drawn.node("eu-west-1", " ".join(HOSTILE.split()))
    assert re.fullmatch(r"[A-Za-z0-9_]+", node)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in [*drawn.nodes, *drawn.groups])
    raw = next(line for line in lines if line.strip().startswith(f"{node}["))
    name = raw.split('["', 1)[1].rsplit('"]', 1)[0].split("<br>")[0]
    # Only entity codes: no quote, bracket, backtick or `#` of the name's own is left.
    assert not set(re.sub(r"#\w+;", "", name)) & set('"`<>[]{}()|#\n')
    assert len(drawn.nodes) == len(read(diagram.mermaid(prod)).nodes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_plan_still_draws(prod, data):
    """Hand-edited plans that `llmstack check` still accepts (planfile.check_plan): resources dropped,
    parents changed, inputs of any shape; the diagram is still one of ours, whole."""
    document = copy.deepcopy(prod)
    resources = document["resources"]
    junk = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2))
    for index in data.draw(st.lists(st.integers(0, len(resources) - 1), max_size=30)):
        resource = resources[index]
        if data.draw(st.booleans()):
            resource["inputs"] = {key: data.draw(junk) for key in resource["inputs"]}
        else:
            resource["parent"] = data.draw(st.sampled_from([None, "urn:nothing", *(r["urn"] for r in resources[:20])]))
    dropped = set(data.draw(st.lists(st.integers(0, len(resources) - 1), max_size=60)))
    document["resources"] = [r for i, r in enumerate(resources) if i not in dropped]
    try:
        check_plan(document, "plan.json")
    except UsageError:
        assume(False)
    read(diagram.mermaid(document, {r["urn"] for r in resources[:5]}))


def test_escape_maps_every_special_character_to_an_entity():
    assert diagram.escape('a"b#c<d>e&f[g]h`i|j{k}l(m)n') == (
        "a#quot;b#35;c#lt;d#gt;e#amp;f#91;g#93;h#96;i#124;j#123;k#125;l#40;m#41;n"
    )
    assert diagram.escape("one\nline\tonly\x00") == "one line only"


# --- Mermaid's own parser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mermaid_parse():
    """Mermaid's parser (tests/mermaid/parse.mjs), installed from the committed lock file with `npm ci`
    once per lock file. Node.js and npm are required: without them the test fails, it does not skip."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the Mermaid parser test needs Node.js 20+ and npm on PATH (tests/mermaid: npm ci)", pytrace=False)
    lock = (MERMAID / "package-lock.json").read_bytes()
    stamp = MERMAID / "node_modules" / ".installed-lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=MERMAID,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in tests/mermaid failed:\n{done.stderr[-3000:]}", pytrace=False)
        stamp.write_text(digest)

    def parse(diagrams: list[list[str]]) -> list[dict[str, Any]]:
        texts = ["\n".join(lines[1:-1]) for lines in diagrams]  # without the ```mermaid fences
        done = subprocess.run(
            [node, "parse.mjs"], cwd=MERMAID, input=json.dumps(texts), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    return parse


def understood_alike(ours: Read, theirs: dict[str, Any]) -> None:
    """Mermaid read the nodes, labels, groups, lines and classes we meant."""
    assert theirs["ok"], theirs.get("error")
    assert theirs["type"] == "flowchart-v2"
    nodes = {n: v for n, v in theirs["nodes"].items() if n not in ours.groups}
    assert {n: v["lines"] for n, v in nodes.items()} == {n: lines for n, (lines, _) in ours.nodes.items()}
    groups = {g["id"]: g for g in theirs["subgraphs"]}
    assert {g: v["title"] for g, v in groups.items()} == {g: title for g, (title, _) in ours.groups.items()}
    for node, (_, group) in ours.nodes.items():
        assert node in groups[group]["nodes"], (node, group)
    assert [(e["start"], e["end"]) for e in theirs["edges"]] == [(s, t) for s, _, _, t in ours.edges]
    assert [e["label"] for e in theirs["edges"]] == [label for _, _, label, _ in ours.edges]
    invisible = [e["stroke"] == "invisible" for e in theirs["edges"]]
    assert invisible == [arrow == "~~~" for _, arrow, _, _ in ours.edges]
    classed = {n for n, v in theirs["nodes"].items() if diagram.CHANGED_CLASS in v["classes"]}
    classed |= {g for g, v in groups.items() if diagram.CHANGED_CLASS in v["classes"]}
    assert classed == ours.classed
    styled = {i for i, e in enumerate(theirs["edges"]) if any("e8590c" in s for s in e["style"])}
    assert styled == ours.styled_links


def test_mermaid_reads_the_diagrams_as_we_drew_them(plans, mermaid_parse):
    prod = plans["prod"]
    changed = {urn_of(prod, n) for n in ("eu-west-1-datacentre-vpn", "dc1-mistral-7b-private-deployment")}
    diagrams = [
        diagram.mermaid(plans["dev"]),
        diagram.mermaid(prod),
        diagram.mermaid(prod, changed),
        diagram.mermaid(hostile_plan(prod)),
    ]
    results = mermaid_parse(diagrams)
    for lines, result in zip(diagrams, results, strict=True):
        understood_alike(read(lines), result)
    assert read(diagrams[2]).classed and read(diagrams[2]).styled_links  # the highlight was really checked
    # The hostile name comes out as written, in one label of one node.
    hostile = results[3]["nodes"]
    assert [" ".join(HOSTILE.split())] == [v["lines"][0] for v in hostile.values() if "pwned" in v["lines"][0]]
    assert "pwned" not in hostile


def test_mermaid_rejects_a_broken_diagram(plans, mermaid_parse):
    """The parser really checks: our prod diagram with one group left open, a label left unquoted,
    or a highlight of a line that is not there, is refused."""
    lines = diagram.mermaid(plans["prod"])
    unclosed = lines[:]
    unclosed.remove(next(line for line in lines if line.strip() == "end"))
    unquoted = [line.replace('["API Gateway · v1"]', "[API Gateway [v1]]") for line in lines]
    out_of_range = [*lines[:-1], f"  linkStyle {len(read(lines).edges)} stroke:#f00", "```"]
    results = mermaid_parse([unclosed, unquoted, out_of_range, lines])
    assert [r["ok"] for r in results] == [False, False, False, True], [r.get("error", "")[:200] for r in results]
