"""GpuCluster: one region's hardened EKS control plane, its add-ons, the system nodes and a Kubernetes provider.

- Private API endpoint; the public one only as a named config choice, limited to listed CIDRs.
- Kubernetes Secrets envelope-encrypted with the region's eks-secrets key (customer-managed).
- All five control-plane log types into a log group we create first, KMS-encrypted, with retention
  (EKS would otherwise create it itself, unencrypted and kept forever).
- Authentication mode API: admins get access entries, nodes join through an EC2_LINUX access entry
  of the shared node role; there is no aws-auth ConfigMap.
- Pinned EKS add-ons (ADDON_VERSIONS); vpc-cni and the EBS CSI driver get their AWS permissions
  through EKS Pod Identity, so the node role carries no CNI or EBS rights any pod could borrow.
- A system managed node group (on-demand, general purpose, every private subnet) for add-ons and
  controllers; GPU node groups are separate and reuse `node_role_arn`.

The policy documents and the kubeconfig are pure functions, for tests and review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import aws_managed_policies
from components.arg_checks import ACCOUNT_ID, check_cluster_name, check_environment, check_region
from components.conventions import LOG_RETENTION_DAYS, NODE_GROUP_LABEL
from components.eks_addons import ADDON_VERSIONS
from components.named_networks import NamedNetwork
from components.pod_identity import trust_policy as pod_identity_trust_policy

# Every control-plane log type EKS has; the policy pack requires all of them.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# Installed before any node exists: a node is NotReady without the CNI, and the CNI reads its
# credentials from the Pod Identity agent. The others schedule pods, so they wait for the system nodes.
BEFORE_NODES = ("eks-pod-identity-agent", "vpc-cni", "kube-proxy")
AFTER_NODES = ("coredns", "aws-ebs-csi-driver", "metrics-server")

# Service accounts EKS add-ons run as (kube-system), bound to IAM roles by Pod Identity.
ADDON_SERVICE_ACCOUNTS = {"vpc-cni": "aws-node", "aws-ebs-csi-driver": "ebs-csi-controller-sa"}
ADDON_MANAGED_POLICIES = {
    "vpc-cni": aws_managed_policies.EKS_CNI,
    "aws-ebs-csi-driver": aws_managed_policies.EBS_CSI_DRIVER,
}
# Add-on configuration (JSON of the add-on's schema). The VPC CNI ships its network policy agent
# disabled: without this every NetworkPolicy of the stack is accepted by the API and never enforced.
ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
# With hybrid nodes, the Pod Identity agent's second DaemonSet runs on them (off by default; add-on
# v1.3.3-eksbuild.1 and later; EKS user guide, "Configure add-ons for hybrid nodes").
HYBRID_ADDON_CONFIGURATION = {"eks-pod-identity-agent": {"daemonsets": {"hybrid": {"create": True}}}}

CLUSTER_POLICIES = (aws_managed_policies.EKS_CLUSTER,)
# ECR pull-only (not read-only): nodes never need to list or describe repositories.
NODE_POLICIES = (aws_managed_policies.EKS_WORKER_NODE, aws_managed_policies.ECR_PULL_ONLY)
ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"

SYSTEM_NODE_GROUP = "system"
SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"
ROOT_DEVICE = "/dev/xvda"  # AL2023 EKS AMIs boot from it
SYSTEM_ROOT_VOLUME_GIB = 50
KUBECONFIG_API_VERSION = "client.authentication.k8s.io/v1beta1"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def control_plane_log_group_name(cluster_name: str) -> str:
    """The log group EKS writes control-plane logs to; fixed by EKS."""
    return f"/aws/eks/{cluster_name}/cluster"


def cluster_trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksControlPlane",
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def node_trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksNodes",
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def secrets_key_policy(key_arn: str) -> dict[str, Any]:
    """What the control plane needs of the eks-secrets key (envelope encryption), on that key only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnvelopeEncryptionOfSecrets",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                "Resource": key_arn,
            },
            {
                # Grants only when EKS asks for them on the role's behalf (KMS developer guide,
                # "Controlling access to grants": kms:GrantIsForAWSResource), never for another principal.
                "Sid": "GrantsForEksOnly",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ],
    }


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig that authenticates with `aws eks get-token` (no long-lived credentials in it)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": KUBECONFIG_API_VERSION,
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region,
                                 "--output", "json"],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class GpuClusterArgs:
    environment: str
    """dev, staging or prod: names and tags derive from it."""
    region: str
    """Region of the caller's AWS provider (the kubeconfig's `aws eks get-token --region`)."""
    cluster_name: str
    """EKS cluster name (unique per region); the network tags its subnets with it."""
    kubernetes_version: str
    """Pinned minor version, e.g. "1.33"; must have a row in ADDON_VERSIONS."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Control-plane ENIs and system nodes go here (one subnet per zone)."""
    vpc_id: pulumi.Input[str]
    """The cluster's VPC; passed through as `.vpc_id` for components built on the cluster."""
    vpc_cidr: str
    """Its CIDR; passed through as `.vpc_cidr` (security-group rules of components on the cluster)."""
    eks_secrets_key_arn: pulumi.Input[str]
    """Customer-managed key for envelope encryption of Secrets (Encryption.eks_secrets_key_arn)."""
    logs_key_arn: pulumi.Input[str]
    """Customer-managed key of the control-plane log group (Encryption.logs_key_arn)."""
    ebs_key_arn: pulumi.Input[str]
    """Customer-managed key of the nodes' root volumes (Encryption.ebs_key_arn)."""
    account_id: pulumi.Input[str]
    log_retention_days: int = 90
    """Control-plane log retention; one of the values CloudWatch Logs accepts."""
    public_endpoint: bool = False
    """Named opt-in to a public API endpoint; requires `public_access_cidrs`."""
    public_access_cidrs: tuple[str, ...] = ()
    """CIDRs that may reach the public endpoint; never 0.0.0.0/0. Only used with `public_endpoint`."""
    admin_role_arns: tuple[str, ...] = ()
    """IAM roles that get cluster-admin access entries. Empty: the identity that creates the cluster is
    made admin by EKS (bootstrap) instead, so the program can still manage in-cluster objects."""
    remote_node_networks: tuple[NamedNetwork, ...] = ()
    """EKS Hybrid Nodes: the on-prem machines' networks (routed over the private path); with
    `remote_pod_networks`, or neither."""
    remote_pod_networks: tuple[NamedNetwork, ...] = ()
    """EKS Hybrid Nodes: the pod networks of those machines (webhooks and metrics reach pods there)."""
    system_instance_type: str = "m6i.xlarge"
    system_min_nodes: int = 2
    system_max_nodes: int = 4
    protect: bool = False
    """Deletion protection on the cluster (prod)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        check_cluster_name(self.cluster_name)
        if self.kubernetes_version not in ADDON_VERSIONS:
            raise ValueError(
                f"kubernetes_version: no pinned add-on versions for {self.kubernetes_version!r}; "
                f"supported: {', '.join(ADDON_VERSIONS)}"
            )
        if isinstance(self.account_id, str) and not ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"account_id: must be a 12-digit AWS account id (got {self.account_id!r})")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_retention_days: must be one of {', '.join(map(str, LOG_RETENTION_DAYS))} "
                f"(got {self.log_retention_days!r})"
            )
        if self.public_endpoint and not self.public_access_cidrs:
            raise ValueError("public_access_cidrs: required when public_endpoint is true")
        if self.public_access_cidrs and not self.public_endpoint:
            raise ValueError("public_access_cidrs: only allowed with public_endpoint true")
        if any(cidr.endswith("/0") for cidr in self.public_access_cidrs):
            raise ValueError("public_access_cidrs: 0.0.0.0/0 is not allowed; list your CIDRs")
        for arn in self.admin_role_arns:
            if not _ROLE_ARN.fullmatch(arn):
                raise ValueError(f"admin_role_arns: must be IAM role ARNs (got {arn!r})")
        if len(set(self.admin_role_arns)) != len(self.admin_role_arns):
            raise ValueError("admin_role_arns: each role once (an access entry per principal)")
        if bool(self.remote_node_networks) != bool(self.remote_pod_networks):
            raise ValueError("remote_node_networks, remote_pod_networks: both or neither (EKS Hybrid Nodes)")
        if not 1 <= self.system_min_nodes <= self.system_max_nodes:
            raise ValueError(
                f"system_min_nodes: must be between 1 and system_max_nodes ({self.system_max_nodes}) "
                f"(got {self.system_min_nodes})"
            )


class GpuCluster(pulumi.ComponentResource):
    """Needs the region's AWS provider in `opts`; `kubernetes_provider()` connects in-cluster components."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    cluster_endpoint: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    kubernetes_version: str
    system_node_labels: dict[str, str]
    """Labels of the system nodes: the node selector of controllers that must stay off GPU nodes."""

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cluster:GpuCluster", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        self.kubernetes_version = args.kubernetes_version
        self.vpc_id = pulumi.Output.from_input(args.vpc_id)
        self.vpc_cidr = args.vpc_cidr
        versions = ADDON_VERSIONS[args.kubernetes_version]

        def managed_policy(policy: str) -> pulumi.Output[str]:
            return partition.apply(lambda p: aws_managed_policies.managed_policy_arn(policy, p))

        # --- control plane -------------------------------------------------------------------------
        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            description=f"EKS control plane of {args.cluster_name} ({args.region})",
            assume_role_policy=json.dumps(cluster_trust_policy()),
            tags=_tags(f"{name}-cluster-role"),
            opts=child,
        )
        cluster_role_grants: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-cluster-{policy}", role=cluster_role.name, policy_arn=managed_policy(policy), opts=child
            )
            for policy in CLUSTER_POLICIES
        ]
        cluster_role_grants.append(
            aws.iam.RolePolicy(
                f"{name}-cluster-secrets-key",
                role=cluster_role.name,
                policy=pulumi.Output.from_input(args.eks_secrets_key_arn).apply(
                    lambda arn: json.dumps(secrets_key_policy(arn))
                ),
                opts=child,
            )
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=control_plane_log_group_name(args.cluster_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=_tags(f"{name}-control-plane-logs"),
            opts=child,
        )
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.private_subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.public_endpoint,
                public_access_cidrs=list(args.public_access_cidrs) if args.public_endpoint else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.eks_secrets_key_arn),
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # With admin roles configured, only they are admins: the deployer must act as one of
                # them. Without any, the creating identity is the only way in (and stays visible as
                # an access entry). Read at creation only, hence ignore_changes below.
                bootstrap_cluster_creator_admin_permissions=not args.admin_role_arns,
            ),
            # EKS Hybrid Nodes. Updated in place (UpdateClusterConfig) since the Terraform provider dropped
            # ForceNew from it (hashicorp/terraform-provider-aws#42928, in v6): adding a target to a
            # running cluster does not replace it.
            remote_network_config=aws.eks.ClusterRemoteNetworkConfigArgs(
                remote_node_networks=aws.eks.ClusterRemoteNetworkConfigRemoteNodeNetworksArgs(
                    cidrs=[network.cidr for network in args.remote_node_networks]
                ),
                remote_pod_networks=aws.eks.ClusterRemoteNetworkConfigRemotePodNetworksArgs(
                    cidrs=[network.cidr for network in args.remote_pod_networks]
                ),
            )
            if args.remote_node_networks
            else None,
            # Every add-on is declared (and pinned) below; none is installed unmanaged behind our back.
            bootstrap_self_managed_addons=False,
            # STANDARD support: a version past standard support is upgraded, not billed extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.protect,
            tags=_tags(f"{name}-eks"),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The log group must exist first or EKS creates it unencrypted with no retention; the
                # role's permissions must outlive the cluster so EKS can clean up on deletion.
                depends_on=[log_group, *cluster_role_grants],
                ignore_changes=["accessConfig.bootstrapClusterCreatorAdminPermissions"],
            ),
        )
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.cluster_endpoint = cluster.endpoint
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.oidc_issuer = cluster.identities[0].oidcs[0].issuer
        self._admit_remote_networks(name, args)

        # --- admins -----------------------------------------------------------------------------
        admin_access: list[pulumi.Resource] = []
        for i, role_arn in enumerate(args.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{i}",
                cluster_name=cluster.name,
                principal_arn=role_arn,
                type="STANDARD",
                tags=_tags(f"{name}-admin-{i}"),
                opts=child,
            )
            admin_access.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{i}",
                    cluster_name=cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=partition.apply(
                        lambda p: f"arn:{p}:eks::aws:cluster-access-policy/{ADMIN_ACCESS_POLICY}"
                    ),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=child,
                )
            )

        # --- nodes: one role for every node group, joined by an access entry ----------------------
        node_role = aws.iam.Role(
            f"{name}-node-role",
            description=f"EKS nodes of {args.cluster_name} ({args.region})",
            assume_role_policy=json.dumps(node_trust_policy()),
            tags=_tags(f"{name}-node-role"),
            opts=child,
        )
        node_grants = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=node_role.name, policy_arn=managed_policy(policy), opts=child
            )
            for policy in NODE_POLICIES
        ]
        # Created before any node group: EKS makes this entry itself for a managed node group and a
        # later explicit one would collide; created first, EKS finds it and uses it.
        node_access = aws.eks.AccessEntry(
            f"{name}-nodes",
            cluster_name=cluster.name,
            principal_arn=node_role.arn,
            type="EC2_LINUX",
            tags=_tags(f"{name}-nodes"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_grants),
        )
        # --- add-ons ------------------------------------------------------------------------------
        addon_roles = {
            addon: self._addon_role(name, addon, cluster, managed_policy(policy))
            for addon, policy in ADDON_MANAGED_POLICIES.items()
        }
        addons: dict[str, aws.eks.Addon] = {}
        configuration = {**ADDON_CONFIGURATION, **(HYBRID_ADDON_CONFIGURATION if args.remote_node_networks else {})}
        for addon in BEFORE_NODES:
            addons[addon] = self._addon(
                name, addon, versions[addon], cluster, addon_roles.get(addon),
                [addons["eks-pod-identity-agent"]] if addon == "vpc-cni" else [], configuration.get(addon),
            )  # fmt: skip
        # Every node group takes the role through these Outputs, so it waits for the access entry (to
        # join) and for the network add-ons (to become Ready) without naming them, and records the
        # cluster it joins as a dependency (the capacity policy finds a cluster's node groups by it).
        ready = [node_access.principal_arn, cluster.arn, *(addons[addon].arn for addon in BEFORE_NODES)]
        self.node_role_arn = pulumi.Output.all(*ready).apply(lambda values: values[0])
        self.node_role_name = pulumi.Output.all(node_role.name, *ready).apply(lambda values: values[0])

        # --- system nodes -------------------------------------------------------------------------
        self.system_node_labels = {NODE_GROUP_LABEL: SYSTEM_NODE_GROUP}
        system_nodes = self._system_nodes(name, args, cluster, [node_access, *addons.values()])
        for addon in AFTER_NODES:
            addons[addon] = self._addon(
                name, addon, versions[addon], cluster, addon_roles.get(addon), [system_nodes], configuration.get(addon)
            )
        self.addons = addons

        # Read by `kubernetes_provider`: the Kubernetes half of the program connects through it.
        self._region = args.region
        self._cluster = cluster
        self._provider_prerequisites: list[pulumi.Resource] = [
            *admin_access,
            system_nodes,
            addons["coredns"],
            addons["vpc-cni"],
        ]
        self._kubernetes_provider: k8s.Provider | None = None

        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "cluster_endpoint": self.cluster_endpoint,
                "cluster_security_group_id": self.cluster_security_group_id,
                "oidc_issuer": self.oidc_issuer,
                "node_role_arn": self.node_role_arn,
                "node_role_name": self.node_role_name,
            }
        )

    def kubernetes_provider(self) -> k8s.Provider:
        """The cluster's Kubernetes provider, declared on first use (a child of this cluster either way).

        Only the workloads half of the program asks for it (deploy phase `all`): the deploy phase
        `foundation` runs where the private endpoint cannot be reached, so it declares no provider at all.
        """
        if self._kubernetes_provider is None:
            cluster = self._cluster
            config = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
                lambda v: json.dumps(kubeconfig(v[0], v[1], v[2], self._region))
            )
            self._kubernetes_provider = k8s.Provider(
                f"{self._name}-k8s",
                kubeconfig=config,
                enable_server_side_apply=True,
                # Admin access must exist before the first object is applied, and workloads need the
                # system nodes, cluster DNS and the CNI to run.
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._provider_prerequisites),
            )
        return self._kubernetes_provider

    def _admit_remote_networks(self, name: str, args: GpuClusterArgs) -> None:
        """EKS Hybrid Nodes: kubelets and pods on the remote networks call the API server (HTTPS) through
        the control plane's security group, which admits nothing else from them. The API server's calls
        to them (kubelet 10250, webhooks) leave through the group's egress, which EKS leaves open."""
        remote = [
            (kind, index, network)
            for kind, networks in (("node", args.remote_node_networks), ("pod", args.remote_pod_networks))
            for index, network in enumerate(networks)
        ]
        for kind, index, network in remote:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-remote-{kind}-https-{index}",
                security_group_id=self.cluster_security_group_id,
                description=f"Kubernetes API from {network.label}, hybrid {kind}s",
                cidr_ipv4=network.cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                tags=_tags(f"{name}-remote-{kind}-https-{index}"),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _addon_role(
        self, name: str, addon: str, cluster: aws.eks.Cluster, policy_arn: pulumi.Input[str]
    ) -> aws.iam.Role:
        """The role an add-on's service account assumes through Pod Identity (this cluster only)."""
        role = aws.iam.Role(
            f"{name}-{addon}",
            description=f"EKS Pod Identity: kube-system/{ADDON_SERVICE_ACCOUNTS[addon]} ({addon})",
            assume_role_policy=cluster.arn.apply(
                lambda arn: json.dumps(pod_identity_trust_policy(arn, "kube-system", ADDON_SERVICE_ACCOUNTS[addon]))
            ),
            tags=_tags(f"{name}-{addon}"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-{addon}", role=role.name, policy_arn=policy_arn, opts=pulumi.ResourceOptions(parent=self)
        )
        return role

    def _addon(
        self,
        name: str,
        addon: str,
        version: str,
        cluster: aws.eks.Cluster,
        role: aws.iam.Role | None,
        depends_on: list[pulumi.Resource],
        configuration: dict[str, Any] | None = None,
    ) -> aws.eks.Addon:
        identities = None
        if role is not None:
            identities = [
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=role.arn, service_account=ADDON_SERVICE_ACCOUNTS[addon]
                )
            ]
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=version,
            configuration_values=json.dumps(configuration) if configuration is not None else None,
            pod_identity_associations=identities,
            # Take over whatever a previous install left; on update keep changes made to the add-on's
            # objects out of band so an upgrade never silently reverts an operator's fix.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=_tags(f"{name}-{addon}"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

    def _system_nodes(
        self, name: str, args: GpuClusterArgs, cluster: aws.eks.Cluster, depends_on: list[pulumi.Resource]
    ) -> aws.eks.NodeGroup:
        """On-demand general-purpose nodes in every private subnet for add-ons and controllers."""
        group = f"{name}-{SYSTEM_NODE_GROUP}"
        launch_template = aws.ec2.LaunchTemplate(
            f"{group}-lt",
            description=f"System nodes of {args.cluster_name}: IMDSv2 only, encrypted gp3 root, no SSH key",
            # IMDSv2 with hop limit 1: pods (one hop further) cannot reach the node's credentials;
            # they get AWS access through Pod Identity instead.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=SYSTEM_ROOT_VOLUME_GIB,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.ebs_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=_tags(group))
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=_tags(f"{group}-lt"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.eks.NodeGroup(
            group,
            cluster_name=cluster.name,
            node_group_name=SYSTEM_NODE_GROUP,
            node_role_arn=self.node_role_arn,
            subnet_ids=args.private_subnet_ids,
            version=args.kubernetes_version,
            ami_type=SYSTEM_AMI_TYPE,
            capacity_type="ON_DEMAND",
            instance_types=[args.system_instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.system_min_nodes, desired_size=args.system_min_nodes, max_size=args.system_max_nodes
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            labels=self.system_node_labels,
            tags=_tags(group),
            # No autoscaler owns this group (it is not tagged for discovery): desired follows min.
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )


def _tags(name: str) -> dict[str, str]:
    return {"Name": name, "component": "cluster"}
