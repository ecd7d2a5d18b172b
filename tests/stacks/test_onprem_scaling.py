"""On-prem targets scale and report like a region: their own Prometheus for KEDA / prometheus-adapter,
remote-written to the primary region's AMP over the private path with Roles Anywhere credentials."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import error_of, run_stack

from components import scaling
from components.autoscaling import InClusterSignals
from components.keda import KedaArgs
from components.metrics_collector import MetricsCollectorArgs, PodIdentitySigning, remote_write_policy
from components.prometheus_adapter import PrometheusAdapterArgs
from components.roles_anywhere import trust_policy


@pytest.fixture(scope="module")
def prod_program():
    return run_stack("prod")


@pytest.fixture(scope="module")
def prod(prod_program):
    return prod_program.resources


def primary_workspace_arn(run) -> str:
    return run.outputs["regions"]["us-east-1"]["metrics_workspace_arn"]


def named(resources, name):
    (found,) = [r for r in resources if r.name == name]
    return found


def pod_of(resources, name):
    return named(resources, name).inputs["spec"]["template"]["spec"]


def test_dc1_runs_a_prometheus_server_its_scalers_read_in_cluster(prod):
    pod = pod_of(prod, "dc1-autoscaling-metrics-agent")
    prometheus, helper = pod["containers"]
    assert prometheus["args"] == [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=6h",
        "--web.listen-address=:9090",
    ]
    service = named(prod, "dc1-autoscaling-metrics-query-service").inputs
    assert service["metadata"] == {
        "name": "prometheus-agent",
        "namespace": "monitoring",
        "labels": service["metadata"]["labels"],
    }
    assert service["spec"]["ports"] == [{"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}]
    adapter = pod_of(prod, "dc1-autoscaling-prometheus-adapter-deployment-prometheus-adapter")
    assert [c["name"] for c in adapter["containers"]] == ["prometheus-adapter"]  # no SigV4 proxy on-prem
    assert "--prometheus-url=http://prometheus-agent.monitoring.svc:9090" in adapter["containers"][0]["args"]
    hpa = named(prod, "dc1-autoscaling-llama-3-8b-instruct-hpa").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 8)
    assert hpa["metrics"][0]["pods"]["metric"]["name"] == "tgi_queue_size"
    # No AWS identity in the data centre's cluster: no Pod Identity, no TriggerAuthentication.
    dc1 = [r for r in prod if r.name.startswith("dc1-") and not r.name.startswith("dc1-rack2-")]
    assert not [r for r in dc1 if r.type.startswith("aws:")]
    assert not [r for r in dc1 if r.type == "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"]


def test_only_keda_and_the_adapter_may_query_the_on_prem_prometheus(prod):
    policy = named(prod, "dc1-autoscaling-metrics-query-policy").inputs["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}}
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}},
                },
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-adapter"}},
                },
            ],
            "ports": [{"protocol": "TCP", "port": 9090}],
        }
    ]


def test_dc1_model_servers_admit_the_collector_on_their_metrics_port(prod):
    policy = named(prod, "dc1-llama-3-8b-instruct-ingress").inputs["spec"]
    peers = [rule["from"] for rule in policy["ingress"]]
    collector = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}},
    }
    assert [collector] in peers


def test_dc1_remote_writes_to_the_primary_workspace_through_its_interface_endpoint(prod_program, prod):
    config = yaml.safe_load(named(prod, "dc1-autoscaling-metrics-agent-config").inputs["data"]["prometheus.yml"])
    assert config["global"]["external_labels"] == {"cluster": "dc1", "__replica__": "${POD_NAME}"}
    (write,) = config["remote_write"]
    workspace_id = primary_workspace_arn(prod_program).rsplit("/", 1)[1]
    assert re.fullmatch(
        rf"https://vpce-[0-9a-f]{{17}}-[0-9a-f]{{8}}\.aps-workspaces\.us-east-1\.vpce\.amazonaws\.com"
        rf"/workspaces/{workspace_id}/api/v1/remote_write",
        write["url"],
    ), write["url"]
    assert write["sigv4"] == {"region": "us-east-1"}


def test_the_collector_signs_with_the_metrics_role_served_on_localhost(prod):
    pod = pod_of(prod, "dc1-autoscaling-metrics-agent")
    prometheus, helper = pod["containers"]
    env = {e["name"]: e.get("value") for e in prometheus["env"]}
    assert env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == "http://127.0.0.1:9911/"
    assert helper["image"] == "registry.dc1.example.internal/platform/aws-signing-helper:1.1.1"
    assert helper["command"] == ["/aws_signing_helper"]
    profile = named(prod, "prod-roles-anywhere-dc1-metrics-profile").inputs
    args = helper["args"]
    assert args[:5] == [
        "serve",
        "--certificate",
        "/metrics-client-cert/tls.crt",
        "--private-key",
        "/metrics-client-cert/tls.key",
    ]
    flags = dict(zip(args[5::2], args[6::2], strict=True))
    assert flags["--role-arn"] == profile["roleArns"][0]
    assert flags["--role-arn"].endswith(":role/prod-roles-anywhere-dc1-metrics-role")
    assert flags["--profile-arn"].startswith("arn:aws:rolesanywhere:us-east-1:123456789012:profile/")
    assert flags["--region"] == "us-east-1" and flags["--port"] == "9911"
    assert flags["--endpoint"].startswith("https://vpce-")
    assert flags["--endpoint"].endswith(".rolesanywhere.us-east-1.vpce.amazonaws.com")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["metrics-client-cert"]["secret"] == {"secretName": "metrics-client-cert", "defaultMode": 0o440}
    assert helper["securityContext"]["runAsNonRoot"] is True


def test_the_metrics_role_trusts_only_the_collectors_certificate_and_only_writes(prod_program, prod):
    role = named(prod, "prod-roles-anywhere-dc1-metrics-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    anchor = trust["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert trust == trust_policy(anchor, "dc1", "metrics")
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:PrincipalTag/x509Subject/CN": "llm-metrics-dc1"}
    policy = json.loads(named(prod, "prod-roles-anywhere-dc1-metrics-policy").inputs["policy"])
    assert policy == remote_write_policy(primary_workspace_arn(prod_program))
    assert primary_workspace_arn(prod_program).startswith("arn:aws:aps:us-east-1:123456789012:workspace/ws-")
    profile = named(prod, "prod-roles-anywhere-dc1-metrics-profile").inputs
    assert role.inputs["maxSessionDuration"] == 3600
    assert len(profile["roleArns"]) == 1 and profile["durationSeconds"] == 3600


def test_interface_endpoints_for_the_data_centre_in_the_primary_region_only(prod):
    endpoints = [r for r in prod if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and "-datacentre-" in r.name]
    assert sorted(r.inputs["serviceName"] for r in endpoints) == [
        "com.amazonaws.us-east-1.aps-workspaces",
        "com.amazonaws.us-east-1.rolesanywhere",
        "com.amazonaws.us-east-1.s3",
    ]
    for endpoint in endpoints:
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is False
    rules = [
        r.inputs
        for r in prod
        if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" and "-datacentre-" in r.name
    ]
    # Each endpoint admits dc1's GPU nodes and dc1-rack2's pods by name (test_named_networks), never all of dc1.
    assert len(rules) == 6
    assert {(r["cidrIpv4"], r["ipProtocol"], r["fromPort"], r["toPort"]) for r in rules} == {
        ("10.100.4.0/22", "tcp", 443, 443),
        ("10.100.64.0/18", "tcp", 443, 443),
    }


def test_the_weights_helper_creates_sessions_through_the_private_path_too(prod):
    pod = pod_of(prod, "dc1-llama-3-8b-instruct-deployment")
    sync = pod["initContainers"][1]
    process = {e["name"]: e.get("value") for e in sync["env"]}["AWS_CREDENTIAL_PROCESS"]
    assert " --endpoint https://vpce-" in process and process.endswith(".rolesanywhere.us-east-1.vpce.amazonaws.com")


def test_config_refuses_remote_write_without_the_private_path_or_credentials():
    expected = (
        "onprem_targets[0].metrics_remote_write: needs datacentre (the private path) with ca_certificate and "
        "onprem_targets[0].roles_anywhere (the collector's credentials); or set metrics_remote_write: false"
    )

    def no_datacentre(values):
        values.pop("datacentre")
        values["onprem_targets"][0]["weights_access"] = "static-keys"
        for target in values["onprem_targets"]:  # their names are datacentre.networks'
            target.pop("client_networks")
            target.pop("node_networks", None)

    assert error_of("prod", no_datacentre) == expected

    def no_roles_anywhere(values):
        values["onprem_targets"][0].pop("roles_anywhere")
        values["onprem_targets"][0]["weights_access"] = "static-keys"

    assert error_of("prod", no_roles_anywhere) == expected


def test_metrics_can_stay_in_the_cluster_by_an_explicit_choice():
    def local_only(values):
        values["onprem_targets"][0]["metrics_remote_write"] = False

    resources = run_stack("prod", local_only).resources
    config = yaml.safe_load(named(resources, "dc1-autoscaling-metrics-agent-config").inputs["data"]["prometheus.yml"])
    assert "remote_write" not in config
    assert [c["name"] for c in pod_of(resources, "dc1-autoscaling-metrics-agent")["containers"]] == ["prometheus"]
    assert not [r for r in resources if r.name.startswith("prod-roles-anywhere-dc1-metrics")]
    assert [r for r in resources if r.name == "prod-roles-anywhere-dc1-weights-role"]


# --- the components' own checks --------------------------------------------------------------------


def test_collector_args_refuse_inconsistent_signing():
    with pytest.raises(ValueError, match="^signing: required with remote_write_url, and only with it$"):
        MetricsCollectorArgs("prod", "us-east-1", "dc1", remote_write_url="https://x", signing=None)
    with pytest.raises(ValueError, match="^remote_write_url: an agent that neither writes nor serves queries"):
        MetricsCollectorArgs("prod", "us-east-1", "dc1", remote_write_url=None, signing=None)
    with pytest.raises(ValueError, match="^serve_queries: EKS clusters read the region's workspace"):
        MetricsCollectorArgs(
            "prod", "us-east-1", "c", "https://x", PodIdentitySigning("arn:c", "arn:w"), serve_queries=True
        )
    with pytest.raises(ValueError, match="^signing: required with remote_write_url, and only with it$"):
        InClusterSignals(remote_write_url="https://x")


def test_keda_and_adapter_take_an_aws_identity_whole_or_not_at_all():
    with pytest.raises(ValueError, match="^cluster_name, cluster_arn, workspace_arn: all three"):
        KedaArgs(environment="prod", region="us-east-1", cluster_name="c")
    with pytest.raises(ValueError, match="^cloudwatch_signal: needs the operator's AWS identity"):
        KedaArgs(environment="prod", region="us-east-1", cloudwatch_signal=True)
    with pytest.raises(ValueError, match="^prometheus_url: either an in-cluster Prometheus, or cluster_name"):
        PrometheusAdapterArgs(region="us-east-1")
    with pytest.raises(ValueError, match="^prometheus_url: either an in-cluster Prometheus, or cluster_name"):
        PrometheusAdapterArgs(region="us-east-1", prometheus_url="http://p:9090", workspace_id="ws-1")


def test_an_in_cluster_scaled_object_is_not_signed():
    args = scaling.ModelScalerArgs(
        model="m",
        environment="prod",
        mode="keda",
        min_replicas=1,
        max_replicas=2,
        queue_size_threshold=4,
        prometheus_url="http://prometheus-agent.monitoring.svc:9090",
        trigger_authentication=None,
    )
    for trigger in scaling.scaled_object(args, "http://prometheus-agent.monitoring.svc:9090")["spec"]["triggers"]:
        assert "authenticationRef" not in trigger and "awsRegion" not in trigger["metadata"]
        assert trigger["metadata"]["serverAddress"] == "http://prometheus-agent.monitoring.svc:9090"
    signed = scaling.scaled_object(
        scaling.ModelScalerArgs(
            model="m", environment="prod", mode="keda", min_replicas=1, max_replicas=2, queue_size_threshold=4,
            prometheus_url="https://aps", trigger_authentication="keda-aws",
        ),
        "https://aps",
    )["spec"]["triggers"][0]  # fmt: skip
    assert signed["authenticationRef"] == {"name": "keda-aws", "kind": "TriggerAuthentication"}
    assert signed["metadata"]["awsRegion"] == "us-east-1"
