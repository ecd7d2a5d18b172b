"""First deployment order of model servers on EKS, and how long Pulumi waits for their rollout."""

from __future__ import annotations

from conftest import of_type, run_stack

from llmstack import offline

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


REGIONS = ("us-east-1", "eu-west-1")


def _model_deployments(run, regions=REGIONS):
    """(region, model server name, Deployment) of every model server in these places."""
    return [
        (region, r.name.removesuffix("-deployment"), r)
        for r in of_type(run, DEPLOYMENT)
        if r.inputs["metadata"]["namespace"] == "llm-prod"
        for region in regions
        if r.name.startswith(f"{region}-")
    ]


def test_model_pods_start_after_their_credentials_and_gpu_nodes(prod_run):
    deployments = _model_deployments(prod_run)
    assert len(deployments) == 4  # us-east-1 also runs dc1-rack2's model, on its hybrid nodes
    for region, server, deployment in deployments:
        (association,) = [r for r in of_type(prod_run, ASSOCIATION) if r.name == f"{server}-pod-identity"]
        groups = {r.urn for r in of_type(prod_run, NODE_GROUP) if r.name.startswith(f"{region}-gpu-")}
        assert groups
        assert association.urn in deployment.dependencies, deployment.name
        assert groups <= set(deployment.dependencies), deployment.name
        # ...and the association itself waits for nothing of the model server.
        assert not [dep for dep in association.dependencies if f"::{server}" in dep], association.name


def test_pulumi_waits_for_a_rollout_as_long_as_its_progress_deadline(monkeypatch):
    timeouts: dict[str, tuple[str, str]] = {}
    register = offline.RecordingMonitor.RegisterResource

    def recording(self, request):
        if request.type == DEPLOYMENT:
            timeouts[request.name] = (request.customTimeouts.create, request.customTimeouts.update)
        return register(self, request)

    monkeypatch.setattr(offline.RecordingMonitor, "RegisterResource", recording)
    run = run_stack("prod")
    deployments = _model_deployments(run, (*REGIONS, "dc1"))
    assert len(deployments) == 6
    for _, _, deployment in deployments:
        deadline = f"{deployment.inputs['spec']['progressDeadlineSeconds']}s"
        assert timeouts[deployment.name] == (deadline, deadline)
        assert int(deadline[:-1]) > 3600  # the weight sync alone may take an hour
