"""Ids and ARNs the offline mock gives AWS resources, in each service's real format, one row a type.

A deployment returns identifiers the program then writes into policies, URIs and other resources;
the plan must carry the same shapes (`arn:aws:aps:...:workspace/ws-<uuid>`, a 10-character REST API
id), or checks of those strings on the plan mean nothing. Formats: each service's "Resource types"
table in AWS's Service Authorization Reference and its API reference for ids. Values are derived
from a hash of (type, region, logical name), so plans are deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Subject:
    """What a row sees of one registration."""

    type: str
    name: str
    """Logical (Pulumi) name."""
    region: str
    account: str
    partition: str
    inputs: Mapping[str, Any]

    def hex(self, length: int, salt: str = "") -> str:
        seed = f"{self.type}|{self.region}|{self.name}|{salt}".encode()
        return hashlib.sha256(seed).hexdigest()[:length]

    def uuid(self, salt: str = "") -> str:
        h = self.hex(32, salt)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def physical(self, key: str = "name") -> str:
        """The resource's own name: the input that sets it, else the logical name."""
        value = self.inputs.get(key)
        return value if isinstance(value, str) and value else self.name

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )

    def ec2(self, prefix: str, kind: str) -> tuple[str, dict[str, Any]]:
        """An EC2 id (`vpc-` + 17 hex) and its ARN (`arn:aws:ec2:R:A:vpc/vpc-...`)."""
        resource_id = f"{prefix}-{self.hex(17)}"
        return resource_id, {"arn": self.arn("ec2", f"{kind}/{resource_id}")}


# (id, outputs the provider computes). Outputs always include the inputs, and `name` for AWS types.
Row = Callable[[Subject], tuple[str, dict[str, Any]]]


def _apigateway_child(path: str, length: int = 10) -> Row:
    """API Gateway ids are short lowercase alphanumerics; ARNs are paths under the REST API."""

    def row(s: Subject) -> tuple[str, dict[str, Any]]:
        resource_id = s.hex(length)
        api = s.inputs.get("restApi") or "unknown"
        return resource_id, {"arn": s.arn("apigateway", f"/restapis/{api}/{path}/{resource_id}", account=False)}

    return row


def _name_is_id(service: str, kind: str, key: str = "name") -> Row:
    """Types whose id is their name (IAM roles are below: their ARN carries the path)."""

    def row(s: Subject) -> tuple[str, dict[str, Any]]:
        name = s.physical(key)
        return name, {"arn": s.arn(service, f"{kind}{name}")}

    return row


def _rest_api(s: Subject) -> tuple[str, dict[str, Any]]:
    api_id = s.hex(10)
    return api_id, {
        "rootResourceId": s.hex(10, "root"),
        "executionArn": s.arn("execute-api", api_id),
        "arn": s.arn("apigateway", f"/restapis/{api_id}", account=False),
    }


def _stage(s: Subject) -> tuple[str, dict[str, Any]]:
    api, stage = s.inputs.get("restApi") or "unknown", s.inputs.get("stageName") or s.name
    return f"ags-{api}-{stage}", {
        "arn": s.arn("apigateway", f"/restapis/{api}/stages/{stage}", account=False),
        "invokeUrl": f"https://{api}.execute-api.{s.region}.amazonaws.com/{stage}",
        "executionArn": s.arn("execute-api", f"{api}/{stage}"),
    }


def _iam_role(s: Subject) -> tuple[str, dict[str, Any]]:
    name = s.physical()
    path = s.inputs.get("path") or "/"
    return name, {
        "arn": s.arn("iam", f"role{path}{name}", region=False),
        "uniqueId": "AROA" + s.hex(17).upper(),
    }


def _kms_key(s: Subject) -> tuple[str, dict[str, Any]]:
    key_id = f"mrk-{s.hex(32)}" if s.inputs.get("multiRegion") else s.uuid()
    return key_id, {"keyId": key_id, "arn": s.arn("kms", f"key/{key_id}")}


def _kms_replica_key(s: Subject) -> tuple[str, dict[str, Any]]:
    # A replica shares its primary's key id (mrk-...): only the region in its ARN differs.
    primary = s.inputs.get("primaryKeyArn")
    key_id = primary.rsplit("/", 1)[-1] if isinstance(primary, str) and "/" in primary else f"mrk-{s.hex(32)}"
    return key_id, {"keyId": key_id, "arn": s.arn("kms", f"key/{key_id}")}


def _kms_alias(s: Subject) -> tuple[str, dict[str, Any]]:
    name = s.physical()  # alias/...
    return name, {"arn": s.arn("kms", name), "targetKeyArn": s.arn("kms", f"key/{s.inputs.get('targetKeyId')}")}


def _bucket(s: Subject) -> tuple[str, dict[str, Any]]:
    bucket = s.physical("bucket")
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:{s.partition}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{s.region}.amazonaws.com",
        "region": s.region,
    }


def _bucket_child(s: Subject) -> tuple[str, dict[str, Any]]:
    bucket = s.inputs.get("bucket")
    return bucket if isinstance(bucket, str) and bucket else s.name, {}


def _log_group(s: Subject) -> tuple[str, dict[str, Any]]:
    # pulumi-aws's LogGroup.arn has no trailing ":*" (the API's logGroupArn does).
    group = s.physical()
    return group, {"arn": s.arn("logs", f"log-group:{group}")}


def _eks_cluster(s: Subject) -> tuple[str, dict[str, Any]]:
    cluster = s.physical()
    vpc_config = {**(s.inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{s.hex(17, 'cluster-sg')}"}
    oidc = s.hex(32).upper()
    return cluster, {
        "arn": s.arn("eks", f"cluster/{cluster}"),
        "vpcConfig": vpc_config,
        "endpoint": f"https://{oidc}.gr7.{s.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ=="},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{s.region}.amazonaws.com/id/{oidc}"}]}],
        "status": "ACTIVE",
    }


def _cluster_of(s: Subject) -> str:
    cluster = s.inputs.get("clusterName")
    return cluster if isinstance(cluster, str) and cluster else "unknown"


def _node_group(s: Subject) -> tuple[str, dict[str, Any]]:
    # EKS names a managed node group's Auto Scaling group eks-<node group>-<uuid>.
    cluster, group = _cluster_of(s), s.physical("nodeGroupName")
    uuid = s.uuid()
    return f"{cluster}:{group}", {
        "arn": s.arn("eks", f"nodegroup/{cluster}/{group}/{uuid}"),
        "nodeGroupName": group,
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{uuid}"}]}],
        "status": "ACTIVE",
    }


def _addon(s: Subject) -> tuple[str, dict[str, Any]]:
    cluster, addon = _cluster_of(s), s.physical("addonName")
    return f"{cluster}:{addon}", {"arn": s.arn("eks", f"addon/{cluster}/{addon}/{s.uuid()}")}


def _access_entry(s: Subject) -> tuple[str, dict[str, Any]]:
    cluster, principal = _cluster_of(s), str(s.inputs.get("principalArn") or "")
    # access-entry/<cluster>/<iam type>/<account>/<name>/<uuid>
    kind, _, name = principal.split(":", 5)[-1].partition("/")
    return f"{cluster}:{principal}", {
        "accessEntryArn": s.arn("eks", f"access-entry/{cluster}/{kind or 'role'}/{s.account}/{name}/{s.uuid()}")
    }


def _pod_identity_association(s: Subject) -> tuple[str, dict[str, Any]]:
    cluster, association = _cluster_of(s), f"a-{s.hex(17)}"
    return f"{cluster},{association}", {
        "associationId": association,
        "associationArn": s.arn("eks", f"podidentityassociation/{cluster}/{association}"),
    }


def _lambda_function(s: Subject) -> tuple[str, dict[str, Any]]:
    name = s.physical()
    arn = s.arn("lambda", f"function:{name}")
    return name, {
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        # API Gateway's integration URI: the account field holds the target service.
        "invokeArn": f"arn:{s.partition}:apigateway:{s.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
    }


def _load_balancer(s: Subject) -> tuple[str, dict[str, Any]]:
    name, suffix = s.physical(), s.hex(16)
    kind = "net" if s.inputs.get("loadBalancerType") == "network" else "app"
    resource = f"loadbalancer/{kind}/{name}/{suffix}"
    arn = s.arn("elasticloadbalancing", resource)
    return arn, {
        "arn": arn,
        "arnSuffix": resource.removeprefix("loadbalancer/"),
        "dnsName": f"{name}-{suffix}.elb.{s.region}.amazonaws.com",
    }


def _target_group(s: Subject) -> tuple[str, dict[str, Any]]:
    resource = f"targetgroup/{s.physical()}/{s.hex(16)}"
    arn = s.arn("elasticloadbalancing", resource)
    return arn, {"arn": arn, "arnSuffix": resource}


def _listener(s: Subject) -> tuple[str, dict[str, Any]]:
    # listener/<net|app>/<lb name>/<lb id>/<listener id>
    lb = str(s.inputs.get("loadBalancerArn") or "")
    lb_path = lb.split(":loadbalancer/", 1)[-1] if ":loadbalancer/" in lb else f"net/unknown/{s.hex(16, 'lb')}"
    arn = s.arn("elasticloadbalancing", f"listener/{lb_path}/{s.hex(16)}")
    return arn, {"arn": arn}


def _web_acl(s: Subject) -> tuple[str, dict[str, Any]]:
    name, acl_id = s.physical(), s.uuid()
    scope = "global" if s.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return acl_id, {"arn": s.arn("wafv2", f"{scope}/webacl/{name}/{acl_id}"), "capacity": 0}


def _workspace(s: Subject) -> tuple[str, dict[str, Any]]:
    # AMP's ARN service prefix is `aps`.
    workspace = f"ws-{s.uuid()}"
    return workspace, {
        "arn": s.arn("aps", f"workspace/{workspace}"),
        "prometheusEndpoint": f"https://aps-workspaces.{s.region}.amazonaws.com/workspaces/{workspace}/",
    }


def _budget(s: Subject) -> tuple[str, dict[str, Any]]:
    name = s.physical()
    return f"{s.account}:{name}", {"arn": s.arn("budgets", f"budget/{name}", region=False)}


def _security_group_rule(s: Subject) -> tuple[str, dict[str, Any]]:
    rule = f"sgr-{s.hex(17)}"
    return rule, {"arn": s.arn("ec2", f"security-group-rule/{rule}"), "securityGroupRuleId": rule}


def _launch_template(s: Subject) -> tuple[str, dict[str, Any]]:
    template, outputs = s.ec2("lt", "launch-template")
    return template, {**outputs, "latestVersion": 1, "defaultVersion": 1}


def _eip(s: Subject) -> tuple[str, dict[str, Any]]:
    allocation, outputs = s.ec2("eipalloc", "elastic-ip")
    return allocation, {**outputs, "allocationId": allocation, "publicIp": "198.51.100.10"}


# Service-linked role names AWS fixes per service (IAM user guide, "Services that work with IAM").
_SERVICE_LINKED_ROLES = {"autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling"}


def _service_linked_role(s: Subject) -> tuple[str, dict[str, Any]]:
    service = str(s.inputs.get("awsServiceName") or "unknown")
    name = _SERVICE_LINKED_ROLES.get(service, f"AWSServiceRoleFor{s.hex(8)}")
    arn = s.arn("iam", f"role/aws-service-role/{service}/{name}", region=False)
    return arn, {"arn": arn, "name": name, "path": f"/aws-service-role/{service}/"}


def _ec2(prefix: str, kind: str) -> Row:
    return lambda s: s.ec2(prefix, kind)


def _opaque(prefix: str = "", length: int = 10) -> Row:
    """Types without an ARN whose id is an opaque token (API Gateway model, deployment, ...)."""
    return lambda s: (f"{prefix}{s.hex(length)}", {})


def _composite(*keys: str, separator: str = "/") -> Row:
    """Types without an ARN whose id joins some of their inputs (tag, association, attachment)."""
    return lambda s: (separator.join(str(s.inputs.get(k) or s.name) for k in keys), {})


def _transit_attachment(s: Subject, gateway_input: str) -> dict[str, Any]:
    """A VPN or Direct Connect association on a Transit Gateway is also an attachment of its own."""
    if not str(s.inputs.get(gateway_input, "")).startswith("tgw-"):
        return {}
    return {"transitGatewayAttachmentId": f"tgw-attach-{s.hex(17, 'attachment')}"}


def _virtual_interface(s: Subject) -> tuple[str, dict[str, Any]]:
    """`dxvif-` + 8 characters; AWS's end of the BGP session on its own /30 (169.254.0.0/16)."""
    interface = f"dxvif-{s.hex(8)}"
    return interface, {
        "arn": s.arn("directconnect", f"dxvif/{interface}"),
        "amazonSideAsn": "64512",
        "awsDevice": f"EqDC2-{s.hex(12, 'device')}",
        "jumboFrameCapable": True,
    }


def _vpc_endpoint(s: Subject) -> tuple[str, dict[str, Any]]:
    """An interface endpoint also has DNS names: `<id>-<8 chars>.<service>.<region>.vpce.amazonaws.com`,
    the regional one first (S3's with a leading `*.`)."""
    endpoint_id, outputs = s.ec2("vpce", "vpc-endpoint")
    if s.inputs.get("vpcEndpointType") == "Interface":
        service = str(s.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        name = f"{endpoint_id}-{s.hex(8, 'dns')}.{service}.{s.region}.vpce.amazonaws.com"
        zone = "Z" + s.hex(13, "zone").upper()
        outputs["dnsEntries"] = [{"dnsName": f"*.{name}" if service == "s3" else name, "hostedZoneId": zone}]
    return endpoint_id, outputs


ROWS: dict[str, Row] = {
    "aws:amp/workspace:Workspace": _workspace,
    "aws:apigateway/account:Account": lambda s: ("api-gateway-account", {}),
    "aws:apigateway/apiKey:ApiKey": lambda s: (
        key := s.hex(10),
        {"arn": s.arn("apigateway", f"/apikeys/{key}", account=False)},
    ),
    "aws:apigateway/authorizer:Authorizer": _apigateway_child("authorizers", 6),
    "aws:apigateway/deployment:Deployment": _opaque(length=6),
    "aws:apigateway/integration:Integration": lambda s: (f"agi-{s.hex(10)}", {}),
    "aws:apigateway/method:Method": lambda s: (f"agm-{s.hex(10)}", {}),
    "aws:apigateway/methodSettings:MethodSettings": _composite("restApi", "stageName", "methodPath", separator="-"),
    "aws:apigateway/model:Model": _opaque(length=6),
    "aws:apigateway/requestValidator:RequestValidator": _opaque(length=6),
    "aws:apigateway/resource:Resource": _opaque(length=6),
    "aws:apigateway/response:Response": lambda s: (f"aggr-{s.hex(10)}", {}),
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/usagePlan:UsagePlan": lambda s: (
        plan := s.hex(6),
        {"arn": s.arn("apigateway", f"/usageplans/{plan}", account=False)},
    ),
    "aws:apigateway/usagePlanKey:UsagePlanKey": _composite("keyId"),
    "aws:apigateway/vpcLink:VpcLink": lambda s: (
        link := s.hex(6),
        {"arn": s.arn("apigateway", f"/vpclinks/{link}", account=False)},
    ),
    "aws:autoscaling/tag:Tag": lambda s: (f"{s.inputs.get('autoscalingGroupName')},{s.hex(8)}", {}),
    "aws:budgets/budget:Budget": _budget,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    # Cost Explorer is global (no region in its ARNs); the provider's id of each is its ARN.
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": lambda s: (
        arn := s.arn("ce", f"anomalymonitor/{s.uuid()}", region=False),
        {"arn": arn},
    ),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": lambda s: (
        arn := s.arn("ce", f"anomalysubscription/{s.uuid()}", region=False),
        {"arn": arn},
    ),
    # The provider's id of a project is its ARN; a webhook's is the project's name.
    "aws:codebuild/project:Project": lambda s: (
        arn := s.arn("codebuild", f"project/{s.physical()}"),
        {"arn": arn, "badgeUrl": ""},
    ),
    "aws:codebuild/webhook:Webhook": lambda s: (
        str(s.inputs.get("projectName") or s.name),
        {
            "payloadUrl": f"https://codebuild.{s.region}.amazonaws.com/webhooks?t={s.uuid('payload')}",
            "url": f"https://api.github.com/repos/webhooks/{s.hex(9, 'hook')}",
            "secret": "",
        },
    ),
    "aws:ec2/customerGateway:CustomerGateway": _ec2("cgw", "customer-gateway"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/flowLog:FlowLog": _ec2("fl", "vpc-flow-log"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:ec2/natGateway:NatGateway": _ec2("nat", "natgateway"),
    "aws:ec2/route:Route": lambda s: (f"r-{s.inputs.get('routeTableId')}{s.hex(10)}", {}),
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda s: (f"rtbassoc-{s.hex(17)}", {}),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/subnet:Subnet": _ec2("subnet", "subnet"),
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": lambda s: (f"scr-{s.hex(17)}", {}),
    "aws:ec2/vpc:Vpc": _ec2("vpc", "vpc"),
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": _ec2("pcx", "vpc-peering-connection"),
    # The accepter manages the requester's connection: its id is the connection's.
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": lambda s: (
        connection := str(s.inputs.get("vpcPeeringConnectionId") or f"pcx-{s.hex(17)}"),
        {"arn": s.arn("ec2", f"vpc-peering-connection/{connection}"), "accepted": True},
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/vpnConnection:VpnConnection": lambda s: (
        (connection := s.ec2("vpn", "vpn-connection"))[0],
        # On a Transit Gateway the connection is also an attachment, with an id of its own.
        {**connection[1], **_transit_attachment(s, "transitGatewayId")},
    ),
    "aws:ec2/vpnGateway:VpnGateway": _ec2("vgw", "vpn-gateway"),
    # Direct Connect gateways are global: their ARN names no region.
    "aws:directconnect/gateway:Gateway": lambda s: (
        gateway := s.uuid(),
        {"arn": s.arn("directconnect", f"dx-gateway/{gateway}", region=False), "ownerAccountId": s.account},
    ),
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": lambda s: _virtual_interface(s),
    "aws:directconnect/privateVirtualInterface:PrivateVirtualInterface": lambda s: _virtual_interface(s),
    # The provider's id: `ga-<Direct Connect gateway id><associated gateway id>`.
    "aws:directconnect/gatewayAssociation:GatewayAssociation": lambda s: (
        f"ga-{s.inputs.get('dxGatewayId')}{s.inputs.get('associatedGatewayId')}",
        {
            "dxGatewayAssociationId": s.uuid("association"),
            "associatedGatewayType": "transitGateway"
            if str(s.inputs.get("associatedGatewayId", "")).startswith("tgw-")
            else "virtualPrivateGateway",
            "dxGatewayOwnerAccountId": s.account,
            **_transit_attachment(s, "associatedGatewayId"),
        },
    ),
    "aws:rolesanywhere/profile:Profile": lambda s: (
        profile := s.uuid(),
        {"arn": s.arn("rolesanywhere", f"profile/{profile}")},
    ),
    "aws:rolesanywhere/trustAnchor:TrustAnchor": lambda s: (
        anchor := s.uuid(),
        {"arn": s.arn("rolesanywhere", f"trust-anchor/{anchor}")},
    ),
    "aws:ec2transitgateway/routeTable:RouteTable": _ec2("tgw-rtb", "transit-gateway-route-table"),
    # The provider's ids of these two: `<route table id>_<attachment id>`.
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": _composite(
        "transitGatewayRouteTableId", "transitGatewayAttachmentId", separator="_"
    ),
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": _composite(
        "transitGatewayRouteTableId", "transitGatewayAttachmentId", separator="_"
    ),
    "aws:ec2transitgateway/transitGateway:TransitGateway": lambda s: (
        (gateway := s.ec2("tgw", "transit-gateway"))[0],
        {**gateway[1], "ownerId": s.account},
    ),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": _ec2("tgw-attach", "transit-gateway-attachment"),
    "aws:eks/accessEntry:AccessEntry": _access_entry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _composite(
        "clusterName", "principalArn", "policyArn", separator="#"
    ),
    "aws:eks/addon:Addon": _addon,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _pod_identity_association,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": lambda s: (f"{s.inputs.get('role')}:{s.physical()}", {}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda s: (f"{s.inputs.get('role')}-{s.hex(26)}", {}),
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:kms/alias:Alias": _kms_alias,
    # SNS: a topic's id is its ARN, a topic policy's its topic's ARN, a subscription's its own ARN
    # (the topic's ARN and a UUID; "pending confirmation" until an email endpoint confirms).
    "aws:sns/topic:Topic": lambda s: (arn := s.arn("sns", s.physical()), {"arn": arn}),
    "aws:sns/topicPolicy:TopicPolicy": lambda s: (str(s.inputs.get("arn")), {}),
    "aws:sns/topicSubscription:TopicSubscription": lambda s: (
        arn := f"{s.inputs.get('topic')}:{s.uuid()}",
        {"arn": arn},
    ),
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica_key,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/permission:Permission": lambda s: (s.physical("statementId"), {}),
    "aws:lb/listener:Listener": _listener,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_child,
    "aws:s3/bucketLogging:BucketLogging": _bucket_child,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_child,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_child,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_child,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _bucket_child,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_child,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_child,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _security_group_rule,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _security_group_rule,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:wafv2/webAclAssociation:WebAclAssociation": _composite("webAclArn", "resourceArn", separator=","),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _composite("resourceArn"),
}


def identify(subject: Subject) -> tuple[str, dict[str, Any]] | None:
    """(id, computed outputs) for a type in the table; None for any other type."""
    row = ROWS.get(subject.type)
    return None if row is None else row(subject)


def mock_identity(
    type_token: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
    partition: str = "aws",
) -> tuple[str, dict[str, Any]]:
    """What the offline mock answers for one registration: tests that need another resource's id use it."""
    found = identify(Subject(type_token, name, region, account, partition, dict(inputs or {})))
    if found is None:
        raise KeyError(f"{type_token}: no row in mock_ids.ROWS")
    return found
