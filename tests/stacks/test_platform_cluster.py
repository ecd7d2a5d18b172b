"""The composed program's clusters: one per region, with GPU capacity, model servers on it, autoscaling."""

from __future__ import annotations

from conftest import of_type, run_stack


def by_region(run, type_token):
    return {r.name.split("-cluster-")[0]: r for r in of_type(run, type_token) if "-cluster-" in r.name}


def test_every_region_has_its_cluster_with_the_configured_version(prod_run):
    clusters = by_region(prod_run, "aws:eks/cluster:Cluster")
    assert sorted(clusters) == ["eu-west-1", "us-east-1"]
    for region, cluster in clusters.items():
        assert cluster.inputs["name"] == "llm-serving-prod"
        assert cluster.inputs["version"] == "1.35"
        assert cluster.provider.endswith(f"pulumi:providers:aws::aws-{region}")
        assert cluster.inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    assert prod_run.outputs["regions"]["eu-west-1"]["cluster_name"] == "llm-serving-prod"
    assert prod_run.outputs["regions"]["us-east-1"]["cluster_endpoint"].startswith("https://")


def test_model_servers_run_on_their_regions_cluster_provider(prod_run):
    servers = [d for d in of_type(prod_run, "kubernetes:apps/v1:Deployment") if "-llama" in d.name]
    assert servers
    for deployment in servers:
        if deployment.provider.endswith("::onprem-dc1"):
            continue
        region = deployment.parent.rsplit("::", 1)[1].split("-llama")[0]
        assert deployment.provider.split("::")[-1].startswith(f"{region}-cluster-k8s"), deployment.name


def test_pod_identity_associations_name_their_regions_cluster(prod_run):
    clusters = {r.urn: r for r in of_type(prod_run, "aws:eks/cluster:Cluster")}
    associations = [
        a for a in of_type(prod_run, "aws:eks/podIdentityAssociation:PodIdentityAssociation") if "-llama" in a.name
    ]
    assert associations
    for association in associations:
        assert association.inputs["clusterName"] == "llm-serving-prod"
        (source,) = association.property_dependencies["clusterName"]
        region = association.name.split("-llama")[0]
        assert clusters[source].name == f"{region}-cluster-eks"


def test_model_servers_admit_the_private_subnets_and_the_prometheus_agent(prod_run):
    policies = [
        p
        for p in of_type(prod_run, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if p.provider.split("::")[-1].startswith("us-east-1-cluster-k8s")
        # The model on dc1-rack2's hybrid nodes is called from the data centre (test_hybrid_nodes.py).
        and "llama-3-8b-batch" not in p.name
    ]
    assert policies
    for policy in policies:
        gateway, metrics = policy.inputs["spec"]["ingress"]
        # The private-path NLB's fixed address in each private subnet, nothing wider.
        assert [peer["ipBlock"]["cidr"] for peer in gateway["from"]] == [
            "10.20.31.240/32",
            "10.20.63.240/32",
            "10.20.95.240/32",
        ]
        assert gateway["ports"] == [{"protocol": "TCP", "port": 8080}]
        (agent,) = metrics["from"]
        assert agent["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
        assert agent["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}}


def test_cluster_settings_follow_the_stack_config():
    def public(values):
        values["regions"][0]["cluster"].update(public_endpoint=True, public_access_cidrs=["203.0.113.0/24"])
        values["regions"][0]["cluster"]["system_nodes"] = {
            "instance_type": "m6i.2xlarge",
            "min_nodes": 2,
            "max_nodes": 5,
        }

    run = run_stack("dev", public)
    (cluster,) = of_type(run, "aws:eks/cluster:Cluster")
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    # dev lists no admin role, but its deploy role is one: no bootstrap admin beside it.
    assert cluster.inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    (group,) = [g for g in of_type(run, "aws:eks/nodeGroup:NodeGroup") if g.name.endswith("-system")]
    assert group.inputs["instanceTypes"] == ["m6i.2xlarge"]
    assert group.inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 5}


def test_without_a_deploy_section_the_creating_identity_is_the_admin():
    run = run_stack("dev", lambda values: values.pop("deploy"))
    (cluster,) = of_type(run, "aws:eks/cluster:Cluster")
    assert cluster.inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True
    assert of_type(run, "aws:eks/accessEntry:AccessEntry") == [
        e for e in of_type(run, "aws:eks/accessEntry:AccessEntry") if e.inputs["type"] != "STANDARD"
    ]
    assert of_type(run, "aws:codebuild/project:Project") == []


def test_gpu_capacity_and_its_autoscaling_in_every_region(prod_run):
    groups = [g.name for g in of_type(prod_run, "aws:eks/nodeGroup:NodeGroup") if not g.name.endswith("-system")]
    assert sorted(groups) == [
        "eu-west-1-gpu-a10g-nodes",
        "us-east-1-gpu-a10g-nodes",
        "us-east-1-gpu-h100-nodes",
    ]
    for region in ("us-east-1", "eu-west-1"):
        assert [a.name for a in of_type(prod_run, "llm-serving:autoscaling:Autoscaling") if a.name.startswith(region)]
        assert [
            p.name for p in of_type(prod_run, "llm-serving:cluster:NvidiaDevicePlugin") if p.name.startswith(region)
        ]
        assert [c.name for c in of_type(prod_run, "llm-serving:cluster:ClusterAutoscaler") if c.name.startswith(region)]


def test_objects_in_the_serving_namespace_wait_for_it(prod_run):
    """On a first `pulumi up` nothing may be applied into `llm-prod` before the namespace exists."""
    by_urn = {r.urn: r for r in prod_run.resources}

    def waits_for(resource, target, seen=None):
        seen = seen if seen is not None else set()
        for urn in resource.dependencies:
            if urn == target or (urn not in seen and not seen.add(urn) and waits_for(by_urn[urn], target, seen)):
                return True
        return False

    for region in ("us-east-1", "eu-west-1"):
        (namespace,) = [
            r
            for r in of_type(prod_run, "kubernetes:core/v1:Namespace")
            if r.inputs["metadata"]["name"] == "llm-prod" and r.name.startswith(region)
        ]
        inside = [
            r
            for r in prod_run.resources
            if r.type.startswith("kubernetes:")
            and (r.inputs.get("metadata") or {}).get("namespace") == "llm-prod"
            and r.name.startswith(region)
        ]
        assert len(inside) > 5
        for resource in inside:
            assert waits_for(resource, namespace.urn), resource.name


def test_model_server_weight_roles_trust_only_their_regions_cluster(prod_run):
    import json

    roles = [r for r in of_type(prod_run, "aws:iam/role:Role") if r.name.endswith("-weights-model-server")]
    assert len(roles) == 2
    for role in roles:
        region = role.name.split("-weights-")[0]
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Condition"]["ArnEquals"] == {
            "aws:SourceArn": f"arn:aws:eks:{region}:123456789012:cluster/llm-serving-prod"
        }
