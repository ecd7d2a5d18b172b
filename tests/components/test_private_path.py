"""PrivatePath under mocks: internal NLB, per-model target groups and listeners, VPC link, controller."""

from __future__ import annotations

import base64
import json
import re
import zlib
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from crd_schemas import validate_custom_resource
from hypothesis import given
from hypothesis import strategies as st
from serving_harness import by_type, record

from components import conventions, engines, lb_controller_manifests
from components.private_path import (
    CHART_VERSION,
    CONTROLLER_IMAGE,
    CONTROLLER_IMAGE_TAG,
    CONTROLLER_NAMESPACE,
    CONTROLLER_SERVICE_ACCOUNT,
    DEREGISTRATION_DELAY_SECONDS,
    LISTENER_PORT_BASE,
    LISTENER_PORT_SPAN,
    PrivateBackend,
    PrivatePath,
    PrivatePathArgs,
    aws_name,
    controller_policy,
    controller_values,
    gateway_peers,
    listener_ports,
    nlb_address,
    nlb_reservation,
    target_group_binding,
)
from llmstack.mock_ids import mock_identity
from llmstack.offline import SECRET_PLACEHOLDER

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/llm-prod"
MODELS = ("llama-3-8b-instruct", "mistral-7b", "llama-3-70b-instruct")
# mistral-7b as a vLLM server, the others TGI: each target group checks its own engine's path.
HEALTH_PATHS = {"llama-3-8b-instruct": "/info", "mistral-7b": "/health", "llama-3-70b-instruct": "/info"}
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
SUBNET_CIDRS = ("10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19")
POD_SG = "sg-cluster"

MODEL_NAME = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)


def args(**changes: Any) -> PrivatePathArgs:
    values: dict[str, Any] = {
        "environment": "prod",
        "region": "us-east-1",
        "vpc_id": "vpc-123",
        "private_subnet_ids": SUBNETS,
        "private_subnet_cidrs": SUBNET_CIDRS,
        "pod_security_group_id": POD_SG,
        "cluster_name": "llm-prod",
        "cluster_arn": CLUSTER_ARN,
        "models": tuple(PrivateBackend(m, f"{m}-svc", "llm-prod", HEALTH_PATHS[m]) for m in MODELS),
    }
    values.update(changes)
    return PrivatePathArgs(**values)


def build(path_args: PrivatePathArgs) -> tuple[list, dict[str, Any]]:
    """Record the component's registrations and its resolved outputs."""
    outputs: dict[str, Any] = {}

    def program() -> None:
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        cluster = k8s.Provider("test-cluster", kubeconfig="{}")
        path = PrivatePath(
            "pp", path_args, opts=pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": cluster})
        )
        outputs["listener_ports"] = path.listener_ports
        for attr in ("vpc_link_id", "nlb_arn", "nlb_dns_name", "security_group_id", "controller_role_arn"):
            getattr(path, attr).apply(lambda v, a=attr: outputs.__setitem__(a, v))
        for model, url in path.backend_urls.items():
            url.apply(lambda v, m=model: outputs.setdefault("backend_urls", {}).__setitem__(m, v))

    return record(program), outputs


@pytest.fixture(scope="module")
def built():
    return build(args())


NLB_SG_ID = mock_identity("aws:ec2/securityGroup:SecurityGroup", "pp-nlb-sg")[0]


def one(resources, type_token: str, name: str):
    (found,) = [r for r in by_type(resources, type_token) if r.name == name]
    return found


def arn_of(resources, type_token: str, name: str) -> str:
    """The ARN the mocks gave a resource (same rule as llmstack.offline)."""
    resource = one(resources, type_token, name)
    return _mock_arn(resource)


def _mock_arn(resource) -> str:
    return mock_identity(resource.type, resource.name, resource.inputs)[1]["arn"]


# --- listener ports ------------------------------------------------------------------------------


@given(st.sets(MODEL_NAME, min_size=1, max_size=30))
def test_listener_ports_are_unique_in_range_and_independent_of_order(models):
    ports = listener_ports(models)
    assert set(ports) == models
    assert len(set(ports.values())) == len(models)
    assert all(LISTENER_PORT_BASE <= p < LISTENER_PORT_BASE + LISTENER_PORT_SPAN for p in ports.values())
    assert listener_ports(sorted(models, reverse=True)) == ports


@given(st.sets(MODEL_NAME, min_size=1, max_size=10), MODEL_NAME)
def test_adding_a_model_keeps_the_other_ports_unless_it_collides(models, added):
    before = listener_ports(models)
    after = listener_ports(models | {added})
    preferred = LISTENER_PORT_BASE + zlib.crc32(added.encode()) % LISTENER_PORT_SPAN
    if added not in models and preferred not in before.values():
        assert {m: after[m] for m in models} == before
        assert after[added] == preferred


def test_colliding_models_get_distinct_ports_the_first_in_order_keeps_its_own():
    seen: dict[int, str] = {}
    for i in range(5000):  # find two names whose hashes collide
        name = f"model-{i}"
        slot = zlib.crc32(name.encode()) % LISTENER_PORT_SPAN
        if slot in seen:
            first, second = sorted((seen[slot], name))
            break
        seen[slot] = name
    ports = listener_ports([second, first])
    assert ports[first] == LISTENER_PORT_BASE + slot
    assert ports[second] != ports[first]


def test_aws_names_fit_32_characters_and_stay_distinct():
    short = aws_name("llm", "prod", "mistral-7b")
    assert short == "llm-prod-mistral-7b"
    long_a = aws_name("llm", "production-eu", "llama-3-70b-instruct-awq")
    long_b = aws_name("llm", "production-eu", "llama-3-70b-instruct-gptq")
    assert len(long_a) <= 32 and len(long_b) <= 32 and long_a != long_b
    assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", long_a)


# --- load balancer, target groups, listeners, VPC link ---------------------------------------------


def test_nlb_is_internal_in_the_private_subnets_with_its_security_group(built):
    resources, outputs = built
    nlb = one(resources, "aws:lb/loadBalancer:LoadBalancer", "pp-nlb")
    sg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "pp-nlb-sg")
    inputs = nlb.inputs
    assert inputs["internal"] is True and inputs["loadBalancerType"] == "network"
    # One fixed address per private subnet, inside a range reserved for it alone.
    assert inputs["subnetMappings"] == [
        {"subnetId": "subnet-a", "privateIpv4Address": "10.20.31.240"},
        {"subnetId": "subnet-b", "privateIpv4Address": "10.20.63.240"},
        {"subnetId": "subnet-c", "privateIpv4Address": "10.20.95.240"},
    ]
    reservations = sorted(
        (r.inputs["subnetId"], r.inputs["cidrBlock"], r.inputs["reservationType"])
        for r in by_type(resources, "aws:ec2/subnetCidrReservation:SubnetCidrReservation")
    )
    assert reservations == [
        ("subnet-a", "10.20.31.240/28", "explicit"),
        ("subnet-b", "10.20.63.240/28", "explicit"),
        ("subnet-c", "10.20.95.240/28", "explicit"),
    ]
    assert {r.urn for r in by_type(resources, "aws:ec2/subnetCidrReservation:SubnetCidrReservation")} <= set(
        nlb.dependencies
    )
    assert inputs["securityGroups"] == [mock_identity(sg.type, sg.name)[0]]
    assert inputs["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"
    assert inputs["enableDeletionProtection"] is False and nlb.protect is False
    assert len(inputs["name"]) <= 32
    assert outputs["security_group_id"] == mock_identity(sg.type, sg.name)[0]
    assert outputs["nlb_arn"] == _mock_arn(nlb) and ":loadbalancer/net/" in outputs["nlb_arn"]


def test_protect_turns_on_deletion_protection_and_protects_nlb_and_link():
    resources, _ = build(args(protect=True))
    nlb = one(resources, "aws:lb/loadBalancer:LoadBalancer", "pp-nlb")
    link = one(resources, "aws:apigateway/vpcLink:VpcLink", "pp-vpc-link")
    assert nlb.inputs["enableDeletionProtection"] is True
    assert nlb.protect is True and link.protect is True


def test_one_ip_target_group_per_model_with_an_http_health_check(built):
    resources, _ = built
    groups = {r.inputs["tags"]["model"]: r.inputs for r in by_type(resources, "aws:lb/targetGroup:TargetGroup")}
    assert set(groups) == set(MODELS)
    for model, group in groups.items():
        assert (group["targetType"], group["protocol"], group["port"]) == ("ip", "TCP", conventions.HTTP_PORT)
        assert group["vpcId"] == "vpc-123" and group["preserveClientIp"] == "false"
        # Each model's own path: a TGI and a vLLM model behind one NLB are checked differently.
        assert group["healthCheck"]["protocol"] == "HTTP" and group["healthCheck"]["path"] == HEALTH_PATHS[model]
        assert group["healthCheck"]["port"] == "traffic-port"
        assert model in group["name"] and len(group["name"]) <= 32
        assert group["deregistrationDelay"] == DEREGISTRATION_DELAY_SECONDS


def test_deregistered_pods_keep_their_connections_while_they_drain():
    from components.serving import PRESTOP_SLEEP_SECONDS

    for name in ("tgi", "vllm"):
        assert PRESTOP_SLEEP_SECONDS + engines.engine(name).drain_seconds <= DEREGISTRATION_DELAY_SECONDS


def test_the_plan_health_checks_each_model_on_its_engines_readiness_path(prod_run):
    from conftest import of_type

    engine_of = {
        r.inputs["metadata"]["labels"]["llm-serving/model"]: r.inputs["metadata"]["labels"]["llm-serving/engine"]
        for r in of_type(prod_run, "kubernetes:apps/v1:Deployment")
        if "llm-serving/engine" in r.inputs["metadata"]["labels"]
    }
    groups = of_type(prod_run, "aws:lb/targetGroup:TargetGroup")
    assert groups
    for group in groups:
        model = group.inputs["tags"]["model"]
        assert group.inputs["healthCheck"]["path"] == engines.engine(engine_of[model]).readiness_path
    # And TGI's is never /health (503 when its queue is full).
    assert engines.engine("tgi").readiness_path == "/info"


def test_each_model_has_a_listener_on_its_port_forwarding_to_its_own_target_group(built):
    resources, outputs = built
    nlb_arn = outputs["nlb_arn"]
    listeners = by_type(resources, "aws:lb/listener:Listener")
    assert len(listeners) == len(MODELS)
    assert outputs["listener_ports"] == listener_ports(MODELS)
    assert all(type(p) is int for p in outputs["listener_ports"].values())
    for model, port in outputs["listener_ports"].items():
        listener = one(resources, "aws:lb/listener:Listener", f"pp-listener-{model}").inputs
        group_arn = arn_of(resources, "aws:lb/targetGroup:TargetGroup", f"pp-tg-{model}")
        assert (listener["port"], listener["protocol"], listener["loadBalancerArn"]) == (port, "TCP", nlb_arn)
        assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": group_arn}]
        assert outputs["backend_urls"][model] == f"http://{outputs['nlb_dns_name']}:{port}"


def test_vpc_link_targets_the_nlb(built):
    resources, outputs = built
    link = one(resources, "aws:apigateway/vpcLink:VpcLink", "pp-vpc-link")
    assert link.inputs["targetArn"] == outputs["nlb_arn"]
    assert outputs["vpc_link_id"] == mock_identity("aws:apigateway/vpcLink:VpcLink", "pp-vpc-link")[0]


# --- security groups ------------------------------------------------------------------------------


def test_nlb_takes_no_inbound_rules_so_the_vpc_link_is_the_only_way_in(built):
    resources, _ = built
    rules = [r.inputs for r in by_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")]
    assert [r for r in rules if r["securityGroupId"] == NLB_SG_ID] == []
    (nlb,) = by_type(resources, "aws:lb/loadBalancer:LoadBalancer")
    # PrivateLink (VPC link) traffic skips inbound rules only when enforcement is off.
    assert nlb.inputs["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"


def test_pods_accept_the_http_port_from_the_nlb_group_only_and_the_nlb_sends_only_there(built):
    resources, _ = built
    rules = [r.inputs for r in by_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")]
    (on_pods,) = [r for r in rules if r["securityGroupId"] == POD_SG]
    assert on_pods["referencedSecurityGroupId"] == NLB_SG_ID and "cidrIpv4" not in on_pods
    assert (on_pods["fromPort"], on_pods["toPort"], on_pods["ipProtocol"]) == (
        conventions.HTTP_PORT,
        conventions.HTTP_PORT,
        "tcp",
    )
    (egress,) = by_type(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert egress.inputs["securityGroupId"] == NLB_SG_ID
    assert egress.inputs["referencedSecurityGroupId"] == POD_SG
    assert (egress.inputs["fromPort"], egress.inputs["toPort"]) == (conventions.HTTP_PORT, conventions.HTTP_PORT)
    (group,) = by_type(resources, "aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in group.inputs and "egress" not in group.inputs  # no inline (allow-all) rules


def test_gateway_peers_are_the_nlbs_fixed_addresses_only():
    assert gateway_peers(["10.20.0.0/19", "10.20.32.0/19"]) == (
        {"ipBlock": {"cidr": "10.20.31.240/32"}},
        {"ipBlock": {"cidr": "10.20.63.240/32"}},
    )
    # The address is never one AWS keeps (a subnet's first four, its last) and stays in the subnet.
    assert nlb_address("10.30.4.0/24") == "10.30.4.240" and nlb_reservation("10.30.4.0/24") == "10.30.4.240/28"
    with pytest.raises(ValueError, match="private_subnet_cidrs: an IPv4 subnet of /24 or larger"):
        gateway_peers(["10.20.0.0/27"])
    with pytest.raises(ValueError, match="private_subnet_cidrs: not a network address"):
        gateway_peers(["10.20.0.1/19"])
    with pytest.raises(ValueError, match="private_subnet_cidrs: at least one subnet"):
        gateway_peers([])


# --- controller -----------------------------------------------------------------------------------


def test_controller_policy_writes_only_target_registration_on_the_model_groups(built):
    resources, _ = built
    (policy,) = by_type(resources, "aws:iam/rolePolicy:RolePolicy")
    document = json.loads(policy.inputs["policy"])
    arns = sorted(arn_of(resources, "aws:lb/targetGroup:TargetGroup", f"pp-tg-{m}") for m in MODELS)
    describe, register = document["Statement"]
    assert register["Action"] == ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    assert register["Resource"] == arns
    assert describe["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    for action in describe["Action"]:
        service, verb = action.split(":")
        assert service in ("ec2", "elasticloadbalancing") and verb.startswith("Describe")
        assert verb != "Describe*" or service == "elasticloadbalancing"  # ec2:Describe* would read user data
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in document["Statement"])


def test_controller_policy_needs_a_target_group():
    with pytest.raises(ValueError, match="target_group_arns"):
        controller_policy([], "us-east-1")


def test_controller_identity_is_the_charts_service_account_in_kube_system(built):
    resources, outputs = built
    (association,) = by_type(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["namespace"] == CONTROLLER_NAMESPACE
    assert association.inputs["serviceAccount"] == CONTROLLER_SERVICE_ACCOUNT
    assert association.inputs["clusterName"] == "llm-prod"
    (role,) = by_type(resources, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == CLUSTER_ARN
    assert outputs["controller_role_arn"].endswith(f":role/{role.name}")


def objects_of(resources: list) -> dict[str, Any]:
    """The controller's Kubernetes objects (not the bindings), keyed Kind/name."""
    return {
        f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r
        for r in resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") not in (None, "TargetGroupBinding")
    }


def test_controller_is_the_pinned_chart_and_runs_two_replicas_off_gpu_nodes(built):
    resources, _ = built
    objects = objects_of(resources)
    deployment = objects["Deployment/aws-load-balancer-controller"]
    labels = deployment.inputs["metadata"]["labels"]
    assert labels["helm.sh/chart"] == f"aws-load-balancer-controller-{CHART_VERSION}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", CHART_VERSION) and re.fullmatch(r"v\d+\.\d+\.\d+", CONTROLLER_IMAGE_TAG)
    # eks-charts releases chart 1.N.x with controller v2.N.x.
    assert CHART_VERSION.split(".")[1] == CONTROLLER_IMAGE_TAG.split(".")[1]
    assert deployment.inputs["metadata"]["namespace"] == CONTROLLER_NAMESPACE
    spec = deployment.inputs["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == CONTROLLER_SERVICE_ACCOUNT
    assert objects[f"ServiceAccount/{CONTROLLER_SERVICE_ACCOUNT}"].inputs["metadata"]["namespace"] == "kube-system"
    assert "--cluster-name=llm-prod" in container["args"] and "--aws-region=us-east-1" in container["args"]
    assert "--aws-vpc-id=vpc-123" in container["args"]
    assert spec["replicas"] == 2 and container["image"] == f"{CONTROLLER_IMAGE}:{CONTROLLER_IMAGE_TAG}"
    # No IngressClass, no Service mutator (no NLB for every type=LoadBalancer Service), no Ingress webhook.
    assert not [k for k in objects if k.startswith(("IngressClass/", "IngressClassParams/"))]
    hooks = [
        h["name"]
        for k, o in objects.items()
        if k.endswith("WebhookConfiguration/aws-load-balancer-webhook")
        for h in o.inputs["webhooks"]
    ]
    assert sorted(hooks) == [
        "mpod.elbv2.k8s.aws",
        "mtargetgroupbinding.elbv2.k8s.aws",
        "vingressclassparams.elbv2.k8s.aws",
        "vtargetgroupbinding.elbv2.k8s.aws",
    ]
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": conventions.GPU_LABEL, "operator": "DoesNotExist"}]
    # The association exists before the controller starts (else it runs without credentials).
    (association,) = by_type(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.urn in deployment.dependencies


def test_the_recorded_values_are_what_the_objects_render(built):
    resources, _ = built
    values = controller_values("llm-prod", "us-east-1", "vpc-123", 2, {"role": "system"})
    assert values["serviceAccount"] == {"create": True, "name": CONTROLLER_SERVICE_ACCOUNT}
    assert (values["clusterName"], values["region"], values["vpcId"]) == ("llm-prod", "us-east-1", "vpc-123")
    assert values["enableServiceMutatorWebhook"] is False and values["createIngressClassResource"] is False
    assert values["webhookConfig"] == {"disableIngressValidation": True}
    objects = objects_of(resources)
    pod = objects["Deployment/aws-load-balancer-controller"].inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert objects["Deployment/aws-load-balancer-controller"].inputs["spec"]["replicas"] == values["replicaCount"]
    assert container["image"] == f"{values['image']['repository']}:{values['image']['tag']}"
    assert container["securityContext"] == values["securityContext"]
    assert container["resources"] == values["resources"] and pod["affinity"] == values["affinity"]
    assert "--default-tags=component=gateway" in container["args"]
    assert objects["PodDisruptionBudget/aws-load-balancer-controller"].inputs["spec"]["maxUnavailable"] == 1


def test_webhooks_trust_the_ca_that_signed_the_controllers_serving_certificate(built):
    resources, _ = built
    objects = objects_of(resources)
    secret = objects["Secret/aws-load-balancer-tls"].inputs
    # The key pair is a secret input: the plan (and state) never hold it in clear.
    assert secret["type"] == "kubernetes.io/tls" and secret["data"] == SECRET_PLACEHOLDER
    (signed,) = by_type(resources, "tls:index/locallySignedCert:LocallySignedCert")
    ca_pem = signed.inputs["caCertPem"]
    assert ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in objects[f"{kind}/aws-load-balancer-webhook"].inputs["webhooks"]:
            assert base64.b64decode(hook["clientConfig"]["caBundle"]).decode() == ca_pem
            assert hook["clientConfig"]["service"]["name"] == lb_controller_manifests.WEBHOOK_SERVICE
    (request,) = by_type(resources, "tls:index/certRequest:CertRequest")
    assert request.inputs["dnsNames"] == [
        "aws-load-balancer-webhook-service.kube-system",
        "aws-load-balancer-webhook-service.kube-system.svc",
        "aws-load-balancer-webhook-service.kube-system.svc.cluster.local",
    ]
    assert signed.inputs["allowedUses"] == ["server_auth", "key_encipherment", "digital_signature"]
    # The webhooks are registered once the controller serves them.
    deployment = objects["Deployment/aws-load-balancer-controller"]
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        assert deployment.urn in objects[f"{kind}/aws-load-balancer-webhook"].dependencies


def test_target_group_bindings_bind_each_models_service_to_its_group(built):
    resources, _ = built
    bindings = by_type(resources, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    objects = objects_of(resources)
    (crds,) = by_type(resources, "kubernetes:yaml/v2:ConfigGroup")
    assert "targetgroupbindings.elbv2.k8s.aws" in crds.inputs["yaml"]
    assert len(bindings) == len(MODELS)
    for binding in bindings:
        body = binding.inputs
        validate_custom_resource(body)
        model = body["metadata"]["labels"][conventions.MODEL_LABEL]
        group_arn = arn_of(resources, "aws:lb/targetGroup:TargetGroup", f"pp-tg-{model}")
        assert body["spec"]["targetGroupARN"] == group_arn
        assert body["spec"]["serviceRef"] == {"name": f"{model}-svc", "port": conventions.HTTP_PORT}
        assert body["spec"]["targetType"] == "ip" and "networking" not in body["spec"]
        assert body["metadata"]["namespace"] == "llm-prod"
        # The CRD, the controller and the webhooks that default and validate the binding come first.
        assert crds.urn in binding.dependencies
        assert objects["Deployment/aws-load-balancer-controller"].urn in binding.dependencies
        assert objects["ValidatingWebhookConfiguration/aws-load-balancer-webhook"].urn in binding.dependencies


def test_binding_body_is_the_pure_function():
    body = target_group_binding("m", "svc", "ns", "arn:tg")
    validate_custom_resource(body)
    assert body["metadata"]["name"] == "m-gateway"


def test_every_taggable_resource_names_the_gateway_component(built):
    resources, _ = built
    for resource in resources:
        if resource.type.startswith("aws:") and "tags" in resource.inputs:
            assert resource.inputs["tags"]["component"] == "gateway", resource.name


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"environment": "Prod"}, "environment: must be a DNS label"),
        ({"region": "useast1"}, "region: must be an AWS region name"),
        ({"models": ()}, "models: at least one model"),
        ({"models": (PrivateBackend("Bad_Name", "s", "n", "/info"),)}, "models: model names must be DNS labels"),
        (
            {"models": (PrivateBackend("a", "s", "n", "/info"), PrivateBackend("a", "t", "n", "/info"))},
            "models: each model once \\(repeated: a\\)",
        ),
        ({"controller_replicas": 0}, "controller_replicas: must be 1, 2 or 3"),
    ],
)
def test_bad_arguments_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        args(**changes)


def test_the_nlb_is_priced_per_hour_in_the_cost_estimate(built):
    from components import catalog, cost

    resources, _ = built
    planned = [
        {"type": r.type, "inputs": r.inputs, "region": "us-east-1", "component": "PrivatePath"} for r in resources
    ]
    estimate = cost.estimate(planned)
    assert estimate.monthly_usd == pytest.approx(catalog.HOURS_PER_MONTH * catalog.LOAD_BALANCER_USD_PER_HOUR)
    assert estimate.monthly_usd > 0
