"""The architecture diagram of a plan (Mermaid), drawn from plan.json alone.

Plans may be hand-edited, so nothing here reads the stack file: every box and line comes from the
resources' inputs, parents, providers and property dependencies, and what is missing or of the
wrong shape is left out, never guessed. The document is one `planfile.check_plan` accepts (every
resource an object with urn, type, name and inputs; parent chains that end).

What it shows:

- per region: API clients; the WAF web ACL (AWS evaluates it before API Gateway's own access
  controls, so it comes first); the API Gateway stage; the private path (VPC link to the internal
  NLB); the model servers behind it; the Transit Gateway (or VPN gateway) to the data centre;
- one box per model server per place: model name; instance type and GPU (on-prem: the GPU);
  shards (tensor-parallel GPUs per replica) and the replica range of its HPA or KEDA ScaledObject
  (a server without one: its fixed replicas);
- where each server's weight sync reads from (dotted): its region's S3 bucket, the primary
  bucket (through an S3 VPC endpoint from on-prem), or the data centre's own object store; the
  replication of weights between regions (thick);
- each region's Site-to-Site VPN and Direct Connect association to the data centre; inside the
  data centre its on-prem targets (a Kubernetes cluster, EKS hybrid nodes) and the named networks
  their NetworkPolicies admit.

Layout, for a PR comment about 880 px wide: GitHub shrinks a wider diagram to fit, text and all,
while height costs only a scroll. So the flowchart runs top to bottom and each place is a band
of its own, one below the other: the primary region, the data centre (its servers read the
primary bucket), then the other regions. A band's lines stay inside it; a line between places
(VPN, Direct Connect, replication, weights read from another place) joins the two bands, not
boxes inside them, and only those lines carry a label. That keeps each band a subgraph Mermaid
lays out on its own, in its own `direction TB` (Mermaid honours a subgraph's direction only
while none of its nodes links outside it) and as narrow as its widest row, instead of one graph
whose long lines push boxes apart (Mermaid 11 draws prod 846 px wide this way, 2,487 px as one
graph). Rows are kept short with invisible links (`~~~`): at most
MAX_PER_ROW model servers side by side (the rest wrap below), the Transit Gateway under them,
the data centre's networks above its object store; so no row holds more than about three boxes
whatever the plan. A line without arrowhead is declared from the upper band to the lower one,
since Mermaid ranks every line as if it pointed that way.

Changed URNs (created, updated, replaced or deleted) put the `changed` class on the nearest box
or place that stands for them, up the resource's parent chain (a Deployment: its model server; a
WAF rule: the web ACL; a subnet: its region), and a highlight on the line they stand for (a VPN,
the replication). A deleted resource is found through the component types in its URN and its
name, which starts with its component's name (`f"{name}-..."`, STYLE.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.conventions import (
    COMPONENT_LABEL,
    DATA_TAG,
    GPU_LABEL,
    GPU_RESOURCE,
    INGRESS_NETWORKS_ANNOTATION,
    MODEL_LABEL,
    MODEL_SERVER_COMPONENT,
    MODEL_WEIGHTS_DATA,
    NODE_GROUP_LABEL,
    ONPREM_TARGET_LABEL,
    SIZING_ANNOTATION_PREFIX,
)
from llmstack.planfile import placement

CHANGED_CLASS = "changed"
# Dark text on a light fill reads in GitHub's light and dark themes alike.
CHANGED_STYLE = "fill:#fff3bf,stroke:#e8590c,stroke-width:3px,color:#111"
CHANGED_LINK_STYLE = "stroke:#e8590c,stroke-width:3px"
MAX_PER_ROW = 2

DATACENTRE_TAG = "llm-serving/datacentre"
HYBRID_TARGET_TAG = "target"  # on an eks-hybrid-nodes target's HYBRID_LINUX access entry
# What a scaler means when it leaves a bound out: HPA minReplicas 1 (autoscaling/v2); KEDA
# minReplicaCount 0 and maxReplicaCount 100 (keda.sh, ScaledObject specification).
HPA_MIN_DEFAULT = 1
KEDA_MIN_DEFAULT, KEDA_MAX_DEFAULT = 0, 100

# Characters with a meaning in a quoted Mermaid label, as Mermaid's entity codes. `#` starts an
# entity itself; a backtick would open a markdown string (and three would end the comment's fence).
_ENTITIES = {
    '"': "#quot;",
    "#": "#35;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "[": "#91;",
    "]": "#93;",
    "{": "#123;",
    "}": "#125;",
    "(": "#40;",
    ")": "#41;",
    "|": "#124;",
    "`": "#96;",
}
_NOT_ID = re.compile(r"[^A-Za-z0-9]+")
_SHAPES = {"box": ('["', '"]'), "stadium": ('(["', '"])'), "cylinder": ('[("', '")]')}
_ARROWS = {"request": "-->", "weights": "-.->", "replication": "==>", "link": "---", "hidden": "~~~"}
# Nodes are written in the order a request meets them.
_ROLES = ("clients", "network", "waf", "api", "private_path", "weights", "store", "server", "gateway")
_POD = ("inputs", "spec", "template", "spec")
_SELECTOR = (*_POD, "nodeSelector")


def escape(text: Any) -> str:
    """`text` as one line for inside a double-quoted Mermaid label."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return "".join(_ENTITIES.get(ch, ch) for ch in flat)


def mermaid(document: Mapping[str, Any], changed: Collection[str] = ()) -> list[str]:
    """The diagram's lines, ```mermaid fences included, with `changed` URNs highlighted."""
    return _Builder(document).build().render(set(changed))


# --- the drawing ---------------------------------------------------------------------------------


@dataclass
class _Group:
    id: str
    title: str
    parent: str | None = None


@dataclass
class _Node:
    id: str
    lines: tuple[str, ...]
    shape: str
    group: str
    role: str  # one of _ROLES


@dataclass
class _Edge:
    source: str
    target: str
    kind: str
    label: str | None = None  # drawn only on a line between places
    urns: set[str] = field(default_factory=set)  # what it stands for


@dataclass
class _Diagram:
    groups: list[_Group]
    nodes: list[_Node]
    edges: list[_Edge]
    bands: list[str]  # top-level groups, top to bottom
    owners: Mapping[str, list[str]]  # URN -> ids of the nodes and groups that stand for it
    parents: Mapping[str, str | None]
    place_group: Callable[[str], str | None]  # a URN in the plan -> the group of its place
    deleted: Callable[[str], str | None]  # a URN not in the plan -> what it was under

    def render(self, changed: set[str]) -> list[str]:
        marked, marked_edges = self._marked(changed)
        lines = ["```mermaid", "flowchart TB"]
        if marked or marked_edges:
            lines.append(f"  classDef {CHANGED_CLASS} {CHANGED_STYLE}")
        for band in self.bands:
            lines += self._group_lines(band, 1)
        for edge in self.edges:
            label = f'|"{escape(edge.label)}"|' if edge.label else ""
            lines.append(f"  {edge.source} {_ARROWS[edge.kind]}{label} {edge.target}")
        if marked:
            lines.append(f"  class {','.join(sorted(marked))} {CHANGED_CLASS}")
        if marked_edges:
            lines.append(f"  linkStyle {','.join(map(str, sorted(marked_edges)))} {CHANGED_LINK_STYLE}")
        return [*lines, "```"]

    def _group_lines(self, group_id: str, depth: int) -> list[str]:
        group = next(g for g in self.groups if g.id == group_id)
        pad = "  " * depth
        lines = [f'{pad}subgraph {group.id}["{escape(group.title)}"]', f"{pad}  direction TB"]
        for node in sorted(self.nodes, key=lambda n: _ROLES.index(n.role)):
            if node.group == group.id:
                opening, closing = _SHAPES[node.shape]
                lines.append(f"{pad}  {node.id}{opening}{'<br>'.join(escape(t) for t in node.lines)}{closing}")
        for child in self.groups:
            if child.parent == group.id:
                lines += self._group_lines(child.id, depth + 1)
        return [*lines, f"{pad}end"]

    def _marked(self, changed: set[str]) -> tuple[set[str], set[int]]:
        """The nearest node or group, and the lines, that stand for each changed resource."""
        edge_owners: dict[str, set[int]] = {}
        for index, edge in enumerate(self.edges):
            for urn in edge.urns:
                edge_owners.setdefault(urn, set()).add(index)
        marked: set[str] = set()
        marked_edges: set[int] = set()
        for urn in changed:
            start = urn if urn in self.parents else self.deleted(urn)
            node_found = edge_found = False
            current = start
            while current is not None and not (node_found and edge_found):
                if not node_found and current in self.owners:
                    marked.update(self.owners[current])
                    node_found = True
                if not edge_found and current in edge_owners:
                    marked_edges.update(edge_owners[current])
                    edge_found = True
                current = self.parents.get(current)
            if not node_found:
                # Nothing drawn stands for it: the place it is in (by its name, when it is gone).
                group = self.place_group(start) if start is not None else self.place_group(urn)
                if group is not None:
                    marked.add(group)
        return marked, marked_edges


# --- reading plan.json ------------------------------------------------------------------------------


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(values: Any) -> Any:
    items = _list(values)
    return items[0] if items else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _count(value: Any) -> int | None:
    """A non-negative whole number, as JSON or as a Kubernetes quantity string ("4")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 0 else None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _object_key(resource: Mapping[str, Any], name: Any = None) -> tuple[str, str, str]:
    """A Kubernetes object's identity: its cluster (provider), namespace and name."""
    metadata = _get(resource, "inputs", "metadata")
    return (str(resource.get("provider")), str(_get(metadata, "namespace")), str(name or _get(metadata, "name")))


def _region_role(provider: Mapping[str, Any]) -> str | None:
    """The region-role default tag of an AWS provider (provider inputs arrive JSON-encoded)."""
    tags = _get(provider, "inputs", "defaultTags")
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except ValueError:
            return None
    return _text(_get(tags, "tags", "region-role"))


def _sync_env(deployment: Mapping[str, Any]) -> dict[str, str]:
    """The weight-sync init container's literal environment (bucket, S3 endpoint)."""
    for container in _list(_get(deployment, *_POD, "initContainers")):
        env = {
            str(_get(item, "name")): _get(item, "value")
            for item in _list(_get(container, "env"))
            if isinstance(_get(item, "value"), str)
        }
        if "WEIGHTS_BUCKET" in env:
            return env
    return {}


@dataclass
class _Server:
    node: str
    deployment: Mapping[str, Any]
    group: str


class _Builder:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.resources = [
            r
            for r in _list(document.get("resources"))
            if isinstance(r, Mapping) and all(_text(r.get(k)) for k in ("urn", "type", "name"))
        ]
        self.by_urn = {r["urn"]: r for r in self.resources}
        self.where = placement(self.resources)
        self.groups: list[_Group] = []
        self.nodes: list[_Node] = []
        self.edges: list[_Edge] = []
        self.owners: dict[str, list[str]] = {}
        self.places: dict[str, str] = {}  # placement region or `onprem-<target>` -> group id
        self.servers: list[_Server] = []
        self._ids: set[str] = set()

    # --- helpers ----------------------------------------------------------------------------------

    def of_type(self, token: str) -> list[Mapping[str, Any]]:
        return [r for r in self.resources if r["type"] == token]

    def region(self, resource: Mapping[str, Any]) -> str | None:
        return self.where[resource["urn"]]["region"]

    def group_of(self, resource: Mapping[str, Any]) -> str | None:
        return self.places.get(str(self.region(resource)))

    def anchor(self, resource: Mapping[str, Any]) -> str:
        """What a box drawn from `resource` stands for: the nearest llm-serving component above it
        (RegionalPlatform is only a grouping), or the resource itself."""
        current = self.by_urn.get(resource.get("parent") or "")
        while current is not None:
            if current["type"].startswith("llm-serving:") and not current["type"].endswith(":RegionalPlatform"):
                return current["urn"]
            current = self.by_urn.get(current.get("parent") or "")
        return resource["urn"]

    def new_id(self, *parts: str) -> str:
        base = "_".join(_NOT_ID.sub("_", part).strip("_") or "x" for part in parts)
        candidate, n = base, 2
        while candidate in self._ids:
            candidate, n = f"{base}_{n}", n + 1
        self._ids.add(candidate)
        return candidate

    def group(self, title: str, parent: str | None, *id_parts: str) -> str:
        group_id = self.new_id(*id_parts)
        self.groups.append(_Group(group_id, title, parent))
        return group_id

    def node(self, group: str, role: str, shape: str, lines: Iterable[str], *id_parts: str) -> str:
        node_id = self.new_id(group, *(id_parts or (role,)))
        self.nodes.append(_Node(node_id, tuple(lines), shape, group, role))
        return node_id

    def node_group(self, node_id: str) -> str:
        return next(n.group for n in self.nodes if n.id == node_id)

    def edge(self, source: str, target: str, kind: str, label: str | None = None, urns: Iterable[str] = ()) -> None:
        self.edges.append(_Edge(source, target, kind, label, set(urns)))

    def own(self, urn: str, *targets: str) -> None:
        owned = self.owners.setdefault(urn, [])
        owned += [t for t in targets if t not in owned]

    def band(self, node_or_group: str) -> str:
        """The top-level group a node or group is drawn in."""
        parents = {g.id: g.parent for g in self.groups}
        current = node_or_group if node_or_group in parents else self.node_group(node_or_group)
        while parents.get(current) is not None:
            current = parents[current] or current
        return current

    # --- places -----------------------------------------------------------------------------------

    def regions(self) -> list[str]:
        """Group ids of the regions (of the AWS providers), the primary first."""
        names: dict[str, bool] = {}
        for provider in self.of_type("pulumi:providers:aws"):
            name = _text(_get(provider, "inputs", "region"))
            if name:
                names[name] = names.get(name, False) or _region_role(provider) == "primary"
        groups = []
        for name in sorted(names, key=lambda n: not names[n]):  # stable: otherwise as planned
            self.places[name] = self.group(f"{name} · primary" if names[name] else name, None, name)
            groups.append(self.places[name])
        # A region's platform holds providerless resources too (tls): it stands where the rest stand.
        below: dict[str, set[str]] = {}
        for resource in self.resources:
            region = self.region(resource)
            parent = self.by_urn.get(resource.get("parent") or "")
            while parent is not None and region in self.places:
                below.setdefault(parent["urn"], set()).add(region)
                parent = self.by_urn.get(parent.get("parent") or "")
        for platform in self.of_type("llm-serving:platform:RegionalPlatform"):
            regions = below.get(platform["urn"], set())
            if len(regions) == 1:
                self.own(platform["urn"], self.places[regions.pop()])
        return groups

    def datacentres(self) -> dict[str, str]:
        names = dict.fromkeys(n for r in self.resources if (n := _text(_get(r, "inputs", "tags", DATACENTRE_TAG))))
        return {name: self.group(f"data centre {name}", None, "datacentre", name) for name in names}

    def targets(self, datacentres: Mapping[str, str]) -> list[str]:
        """Groups of the on-prem targets: clusters reached by a kubeconfig, hybrid nodes joined to a
        region's cluster; inside the data centre when there is exactly one (they reach AWS through
        it). Returns those that stand on their own."""
        kinds: dict[str, str] = {}
        for provider in self.of_type("pulumi:providers:kubernetes"):
            if provider["name"].startswith("onprem-"):
                kinds.setdefault(provider["name"].removeprefix("onprem-"), "Kubernetes")
        entries = [
            (target, entry)
            for entry in self.of_type("aws:eks/accessEntry:AccessEntry")
            if _get(entry, "inputs", "type") == "HYBRID_LINUX"
            and (target := _text(_get(entry, "inputs", "tags", HYBRID_TARGET_TAG)))
        ]
        selected = [
            (target, deployment)
            for deployment in self.model_deployments()
            if (target := _text(_get(deployment, *_SELECTOR, ONPREM_TARGET_LABEL)))
        ]
        for target, resource in entries + selected:
            kinds.setdefault(target, f"EKS hybrid nodes in {self.region(resource) or '?'}")
        home = next(iter(datacentres.values())) if len(datacentres) == 1 else None
        for name, kind in kinds.items():
            self.places[f"onprem-{name}"] = self.group(f"{name} · {kind}", home, "target", name)
        for target, entry in entries:
            self.own(self.anchor(entry), self.places[f"onprem-{target}"])
        return [] if home else [self.places[f"onprem-{name}"] for name in kinds]

    # --- model servers ------------------------------------------------------------------------------

    def model_deployments(self) -> list[Mapping[str, Any]]:
        return [
            r
            for r in self.of_type("kubernetes:apps/v1:Deployment")
            if _get(r, "inputs", "metadata", "labels", COMPONENT_LABEL) == MODEL_SERVER_COMPONENT
        ]

    def model_servers(self) -> None:
        scalers = self.scalers()
        node_groups = {
            (str(self.region(g)), label): g
            for g in self.of_type("aws:eks/nodeGroup:NodeGroup")
            if (label := _text(_get(g, "inputs", "labels", NODE_GROUP_LABEL)))
        }
        for deployment in self.model_deployments():
            hybrid = _text(_get(deployment, *_SELECTOR, ONPREM_TARGET_LABEL))
            region = str(self.region(deployment))
            group = self.places.get(f"onprem-{hybrid}" if hybrid else region)
            if group is None:
                continue
            metadata = _get(deployment, "inputs", "metadata")
            name = _text(_get(metadata, "labels", MODEL_LABEL)) or _text(_get(metadata, "name")) or deployment["name"]
            nodes = None if hybrid else node_groups.get((region, str(_get(deployment, *_SELECTOR, NODE_GROUP_LABEL))))
            scaler = scalers.get(_object_key(deployment))
            lines = (name, self.hardware(deployment, nodes), self.size(deployment, scaler))
            node_id = self.node(group, "server", "box", lines, name)
            self.servers.append(_Server(node_id, deployment, group))
            self.own(self.anchor(deployment), node_id)
            if scaler is not None:
                self.own(self.anchor(scaler[0]), node_id)
            if nodes is not None:
                # Its instance type is on the box: a change to the node group shows on the servers it hosts.
                self.own(self.anchor(nodes), node_id)

    def hardware(self, deployment: Mapping[str, Any], nodes: Mapping[str, Any] | None) -> str:
        """The instance type and GPU model (on-prem: the GPU model)."""
        gpu = _text(_get(deployment, "inputs", "metadata", "annotations", f"{SIZING_ANNOTATION_PREFIX}gpu"))
        gpu = gpu or _text(_get(deployment, *_SELECTOR, GPU_LABEL))
        types = [t for t in _list(_get(nodes, "inputs", "instanceTypes")) if _text(t)]
        return " · ".join([*(["/".join(types)] if types else []), gpu.upper() if gpu else "GPU ?"])

    def size(self, deployment: Mapping[str, Any], scaler: tuple[Mapping[str, Any], int, int] | None) -> str:
        """Shards (GPUs per replica) and replicas: the scaler's range, or the Deployment's count."""
        shards = _count(_get(deployment, "inputs", "metadata", "annotations", f"{SIZING_ANNOTATION_PREFIX}shards"))
        if shards is None:
            shards = _count(_get(_first(_get(deployment, *_POD, "containers")), "resources", "limits", GPU_RESOURCE))
        if scaler is not None:
            low, high = scaler[1], scaler[2]
            replicas = f"{low}–{high} replicas" if low != high else _plural(low, "replica")
        else:
            fixed = _count(_get(deployment, "inputs", "spec", "replicas"))
            replicas = _plural(1 if fixed is None else fixed, "replica")  # a Deployment's default: 1
        return f"{'? shards' if shards is None else _plural(shards, 'shard')} · {replicas}"

    def scalers(self) -> dict[tuple[str, str, str], tuple[Mapping[str, Any], int, int]]:
        """(scaler, min, max) by the (provider, namespace, name) of the Deployment it scales."""
        kinds = {
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ("minReplicas", "maxReplicas", HPA_MIN_DEFAULT, None),
            "kubernetes:keda.sh/v1alpha1:ScaledObject": (
                "minReplicaCount",
                "maxReplicaCount",
                KEDA_MIN_DEFAULT,
                KEDA_MAX_DEFAULT,
            ),
        }
        found = {}
        for token, (low_key, high_key, low_default, high_default) in kinds.items():
            for scaler in self.of_type(token):
                spec = _get(scaler, "inputs", "spec")
                target = _get(spec, "scaleTargetRef")
                low, high = _count(_get(spec, low_key)), _count(_get(spec, high_key))
                low = low_default if low is None else low
                high = high_default if high is None else high
                if _get(target, "kind") not in (None, "Deployment") or not _text(_get(target, "name")) or high is None:
                    continue
                found[_object_key(scaler, _get(target, "name"))] = (scaler, low, high)
        return found

    # --- the request path -------------------------------------------------------------------------

    def front_doors(self) -> None:
        """Per region: clients, WAF, API Gateway and the private path, down to the model servers."""
        apis: dict[str, str] = {}  # ApiGateway -> its node
        for api in self.of_type("aws:apigateway/restApi:RestApi"):
            group = self.group_of(api)
            if group is None or self.anchor(api) in apis:
                continue
            stages = self.of_type("aws:apigateway/stage:Stage")
            stage = next(
                (
                    _text(_get(s, "inputs", "stageName"))
                    for s in stages
                    if api["urn"] in _list(_get(s, "property_dependencies", "restApi"))
                ),
                None,
            )
            apis[self.anchor(api)] = self.node(group, "api", "box", [f"API Gateway · {stage or 'REST'}"])
            self.own(self.anchor(api), apis[self.anchor(api)])
        first = dict(apis)  # what a client reaches first, per API
        for association in self.of_type("aws:wafv2/webAclAssociation:WebAclAssociation"):
            stage = self.by_urn.get(_first(_get(association, "property_dependencies", "resourceArn")) or "")
            api = self.anchor(stage) if stage is not None else None
            if api is None or api not in apis:
                continue
            waf = self.node(self.node_group(apis[api]), "waf", "box", ["WAF web ACL"])
            self.own(self.anchor(association), waf)
            self.edge(waf, apis[api], "request")
            first[api] = waf
        for entry in first.values():
            self.edge(self.node(self.node_group(entry), "clients", "stadium", ["API clients"]), entry, "request")
        self.private_paths(apis)

    def private_paths(self, apis: Mapping[str, str]) -> None:
        paths: dict[str, str] = {}  # PrivatePath -> its node
        for link in self.of_type("aws:apigateway/vpcLink:VpcLink"):
            group = self.group_of(link)
            if group is not None and self.anchor(link) not in paths:
                paths[self.anchor(link)] = self.node(group, "private_path", "box", ["VPC link → internal NLB"])
                self.own(self.anchor(link), paths[self.anchor(link)])
        drawn: set[tuple[str, str]] = set()
        for integration in self.of_type("aws:apigateway/integration:Integration"):
            link = self.by_urn.get(_first(_get(integration, "property_dependencies", "connectionId")) or "")
            api = apis.get(self.anchor(integration))
            path = paths.get(self.anchor(link)) if link is not None else None
            if api and path and (api, path) not in drawn:
                drawn.add((api, path))
                self.edge(api, path, "request")
        # A model server's Service has its Deployment's name (conventions.model_server_name).
        servers = {_object_key(s.deployment): s for s in self.servers}
        for binding in self.of_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"):
            path = paths.get(self.anchor(binding))
            server = servers.get(_object_key(binding, _get(binding, "inputs", "spec", "serviceRef", "name")))
            if path and server:
                self.edge(path, server.node, "request")

    # --- weights -------------------------------------------------------------------------------------

    def weights(self) -> None:
        buckets: dict[str, str] = {}  # bucket name -> its node
        for bucket in self.of_type("aws:s3/bucket:Bucket"):
            name, group = _text(_get(bucket, "inputs", "bucket")), self.group_of(bucket)
            if name and group and _get(bucket, "inputs", "tags", DATA_TAG) == MODEL_WEIGHTS_DATA:
                buckets[name] = self.node(group, "weights", "cylinder", ["weights · S3"])
                self.own(self.anchor(bucket), buckets[name])
        stores: dict[tuple[str, str], str] = {}  # (group, bucket) of another S3 endpoint -> its node
        for server in self.servers:
            env = _sync_env(server.deployment)
            bucket = _text(env.get("WEIGHTS_BUCKET"))
            if bucket is None:
                continue
            host = re.sub(r"^[A-Za-z]+://", "", env.get("AWS_ENDPOINT_URL_S3") or "").split("/", 1)[0]
            source = buckets.get(bucket)
            if source is None:
                if (server.group, bucket) not in stores:
                    lines = ["weights · object store", *([host] if host else [])]
                    stores[(server.group, bucket)] = self.node(
                        server.group, "store", "cylinder", lines, "store", bucket
                    )
                source = stores[(server.group, bucket)]
            label = "weights via VPC endpoint" if ".vpce." in host else "weights"
            self.edge(source, server.node, "weights", label)
        for config in self.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
            source = buckets.get(str(_get(config, "inputs", "bucket")))
            destinations = dict.fromkeys(
                buckets.get(str(_get(rule, "destination", "bucket")).removeprefix("arn:aws:s3:::"))
                for rule in _list(_get(config, "inputs", "rules"))
            )
            for target in destinations:
                if source and target:
                    self.edge(source, target, "replication", "weight replication", {config["urn"], self.anchor(config)})

    # --- the data centre ---------------------------------------------------------------------------------

    def datacentre_links(self, datacentres: Mapping[str, str]) -> None:
        """Each region's gateway to the data centre, and its VPN and Direct Connect association."""
        gateways: dict[str, str] = {}

        def gateway(urn: str | None, link: Mapping[str, Any]) -> str | None:
            group = self.group_of(link)
            resource = self.by_urn.get(urn or "")
            key = resource["urn"] if resource is not None else f"{group} gateway"
            if group is not None and key not in gateways:
                vgw = resource is not None and resource["type"] == "aws:ec2/vpnGateway:VpnGateway"
                gateways[key] = self.node(group, "gateway", "box", ["VPN gateway" if vgw else "Transit Gateway"])
                self.own(self.anchor(resource or link), gateways[key])
            return gateways.get(key)

        for vpn in self.of_type("aws:ec2/vpnConnection:VpnConnection"):
            deps = _get(vpn, "property_dependencies")
            customer = self.by_urn.get(_first(_get(deps, "customerGatewayId")) or "")
            datacentre = _text(_get(vpn, "inputs", "tags", DATACENTRE_TAG))
            datacentre = datacentre or _text(_get(customer, "inputs", "tags", DATACENTRE_TAG))
            source = gateway(_first(_get(deps, "transitGatewayId")) or _first(_get(deps, "vpnGatewayId")), vpn)
            far = datacentres.get(datacentre or "")
            if source and far:
                self.edge(source, far, "link", "Site-to-Site VPN", {vpn["urn"]})
        for association in self.of_type("aws:directconnect/gatewayAssociation:GatewayAssociation"):
            deps = _get(association, "property_dependencies")
            dx = self.by_urn.get(_first(_get(deps, "dxGatewayId")) or "")
            datacentre = _text(_get(dx, "inputs", "tags", DATACENTRE_TAG)) if dx is not None else None
            source = gateway(_first(_get(deps, "associatedGatewayId")), association)
            far = datacentres.get(datacentre or "")
            if source and far and dx is not None:
                self.edge(source, far, "link", "Direct Connect", {association["urn"], self.anchor(dx)})

    def callers(self, datacentres: Mapping[str, str]) -> None:
        """The data centre's named networks a model server's NetworkPolicy admits (its annotation)."""
        home = next(iter(datacentres.values())) if len(datacentres) == 1 else None
        servers = {self.anchor(s.deployment): s for s in self.servers}
        networks: dict[tuple[str, str], str] = {}
        for policy in self.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
            server = servers.get(self.anchor(policy))
            names = _text(_get(policy, "inputs", "metadata", "annotations", INGRESS_NETWORKS_ANNOTATION))
            if server is None or names is None:
                continue
            group = home or server.group
            for name in filter(None, (item.split("=", 1)[0].strip() for item in names.split(","))):
                if (group, name) not in networks:
                    networks[(group, name)] = self.node(group, "network", "stadium", [name], "network", name)
                self.edge(networks[(group, name)], server.node, "request")

    # --- layout -----------------------------------------------------------------------------------------

    def lift(self, bands: list[str]) -> None:
        """A line between places joins the two bands (one line per pair, kind and label)."""
        lifted: dict[tuple[str, str, str, str | None], _Edge] = {}
        kept: list[_Edge] = []
        for edge in self.edges:
            source, target = self.band(edge.source), self.band(edge.target)
            if source == target:
                kept.append(_Edge(edge.source, edge.target, edge.kind, None, edge.urns))
                continue
            if edge.kind == "link" and bands.index(source) > bands.index(target):
                source, target = target, source  # declared downwards
            key = (source, target, edge.kind, edge.label)
            if key in lifted:
                lifted[key].urns |= edge.urns
            else:
                lifted[key] = _Edge(source, target, edge.kind, edge.label, set(edge.urns))
        kept.sort(key=lambda e: bands.index(self.band(e.source)))  # a band's lines together, top band first
        self.edges = kept + list(lifted.values())

    def rows(self, bands: list[str]) -> None:
        """Invisible links that keep rows short and the bands in order."""
        for band in bands:
            servers = [s.node for s in self.servers if self.band(s.group) == band]
            for above, below in zip(servers, servers[MAX_PER_ROW:], strict=False):
                self.edge(above, below, "hidden")
            inside = [n for n in self.nodes if self.band(n.group) == band]
            gateways = [n.id for n in inside if n.role == "gateway"]
            for gateway in gateways if servers else ():
                self.edge(servers[-1], gateway, "hidden")
            # Another store's box sits above the servers of its place, under the networks calling them.
            stores = [n for n in inside if n.role == "store"]
            networks = [n.id for n in inside if n.role == "network"]
            fed = {(e.source, e.target) for e in self.edges}
            for store in stores:
                for network in networks:
                    self.edge(network, store.id, "hidden")
                for server in self.servers:
                    if server.group == store.group and (store.id, server.node) not in fed:
                        self.edge(store.id, server.node, "hidden")
        joined = {(e.source, e.target) for e in self.edges} | {(e.target, e.source) for e in self.edges}
        for upper, lower in zip(bands, bands[1:], strict=False):
            if (upper, lower) not in joined:
                self.edge(upper, lower, "hidden")

    def build(self) -> _Diagram:
        regions = self.regions()
        datacentres = self.datacentres()
        alone = self.targets(datacentres)
        self.model_servers()
        self.front_doors()
        self.weights()
        self.datacentre_links(datacentres)
        self.callers(datacentres)
        parents = {g.id: g.parent for g in self.groups}
        drawn = {n.group for n in self.nodes}
        drawn |= {parent for group in drawn if (parent := parents.get(group))}
        for name, group in datacentres.items():
            # A data centre with nothing drawn in it still ends its links.
            if group not in drawn and any(e.target == group for e in self.edges):
                self.node(group, "network", "box", [f"{name} network"])
                drawn.add(group)
        # The primary region, the data centre (its servers read the primary bucket), the rest.
        bands = [b for b in [*regions[:1], *datacentres.values(), *alone, *regions[1:]] if b in drawn]
        self.groups = [g for g in self.groups if g.id in drawn]
        self.edges = [e for e in self.edges if self.known(e.source) and self.known(e.target)]
        self.lift(bands)
        self.rows(bands)
        places = {place: group for place, group in self.places.items() if group in drawn}
        return _Diagram(
            groups=self.groups,
            nodes=self.nodes,
            edges=self.edges,
            bands=bands,
            owners={urn: [t for t in ts if t in drawn or self.known(t)] for urn, ts in self.owners.items()},
            parents={urn: _text(r.get("parent")) for urn, r in self.by_urn.items()},
            place_group=lambda urn: self.place_group(urn, places),
            deleted=self.deleted,
        )

    def known(self, node_or_group: str) -> bool:
        return any(n.id == node_or_group for n in self.nodes) or any(g.id == node_or_group for g in self.groups)

    def place_group(self, urn: str, places: Mapping[str, str]) -> str | None:
        """The group of a resource's place: its placement, or for one that is gone, the place its
        name starts with (`us-east-1-...`, `dc1-...`), longest first."""
        if urn in self.by_urn:
            return places.get(str(self.region(self.by_urn[urn])))
        name = urn.rsplit("::", 1)[-1]
        for place in sorted(places, key=len, reverse=True):
            bare = place.removeprefix("onprem-")
            if name == bare or name.startswith(f"{bare}-"):
                return places[place]
        return None

    def deleted(self, urn: str) -> str | None:
        """A resource no longer in the plan: the component it was under, by the component types in its
        URN (`...::Parent$Type::name`) and its name, which starts with the component's name."""
        qualified, _, name = urn.rpartition("::")
        for token in reversed(qualified.rsplit("::", 1)[-1].split("$")[:-1]):
            candidates = [r for r in self.of_type(token) if name.startswith(f"{r['name']}-")]
            if candidates:
                return max(candidates, key=lambda r: len(r["name"]))["urn"]
        return None
