"""Every AWS-managed IAM policy the program attaches, in one table (pure: no Pulumi).

Names are the part of the ARN after `:policy/`, path included (`service-role/...`): AWS publishes
some managed policies under a path and an ARN without it does not exist. tests/components/
test_aws_managed_policies.py checks each entry against a shipped copy of AWS's managed-policy list.
"""

from __future__ import annotations

EKS_CLUSTER = "AmazonEKSClusterPolicy"
"""EKS control-plane role."""
EKS_WORKER_NODE = "AmazonEKSWorkerNodePolicy"
"""Node role: describe the cluster and join it."""
ECR_PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
"""Node role: pull images; unlike ...ReadOnly it cannot list or describe repositories."""
EKS_CNI = "AmazonEKS_CNI_Policy"
"""vpc-cni add-on (Pod Identity): ENIs and IP addresses of the nodes."""
EBS_CSI_DRIVER = "AmazonEBSCSIDriverPolicyV2"
"""aws-ebs-csi-driver add-on (Pod Identity). V2, not service-role/AmazonEBSCSIDriverPolicy: it
modifies, attaches and deletes only volumes and snapshots tagged `ebs.csi.aws.com/cluster=true`
(which the driver sets on every volume it creates) or created for a PVC, so a compromised driver
cannot detach or delete the nodes' root volumes or any other volume of the account."""
APIGATEWAY_PUSH_TO_CLOUDWATCH_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
"""API Gateway's account-wide logging role."""

ALL = (EKS_CLUSTER, EKS_WORKER_NODE, ECR_PULL_ONLY, EKS_CNI, EBS_CSI_DRIVER, APIGATEWAY_PUSH_TO_CLOUDWATCH_LOGS)


def managed_policy_arn(name: str, partition: str = "aws") -> str:
    """The ARN of one of the table's policies in `partition` (AWS-managed policies have account `aws`)."""
    if name not in ALL:
        raise ValueError(f"managed policy: must be one of {', '.join(ALL)} (got {name!r})")
    return f"arn:{partition}:iam::aws:policy/{name}"
