"""Every registered policy carries a reviewer-facing `review`, and every control id it names is real.

REFERENCE is the cited table of the control ids a policy may name, with their titles as the source
prints them. A made-up or mistyped id fails `test_every_control_id_is_in_the_reference_table`; to
use a new control, add its row here from the same source (or a cited one) first.
"""

import re
import sys
import types

import pytest
from pulumi_policy import ResourceValidationPolicy

from policies import docs
from policies.registry import ALL_POLICIES
from policies.review import AREAS, Controls, Review

SOURCES = {
    "cis_eks": (
        "CIS Amazon EKS Benchmark v1.7.0: recommendation ids and titles as aquasecurity/kube-bench quotes them "
        "in cfg/eks-1.7.0/{controlplane,node,policies,managedservices}.yaml "
        "(commit a73ce378418c71c5861e6963753f50dec3badadf)"
    ),
    "fsbp": (
        "AWS Security Hub control ids and titles from prowler-cloud/prowler "
        "prowler/compliance/aws/aws_foundational_security_best_practices_aws.json "
        "(commit 3e000faa3109230b748e4418a13c11c9e59f5cfb); EC2.170 and EC2.181 from "
        "turbot/steampipe-mod-aws-compliance foundational_security/ec2.pp "
        "(commit a1d0b446ef9b96ea64980859fc063d70da20778e). "
        "turbot's FSBP benchmark leaves out KMS.4, EKS.3, S3.14, S3.17 and WAF.11, which Security Hub also maps to its "
        "NIST 800-53 and PCI standards; the ids and titles are Security Hub's either way. CodeBuild.2-5 from the AWS "
        'Security Hub User Guide, "Security Hub controls for CodeBuild" '
        "(https://docs.aws.amazon.com/securityhub/latest/userguide/codebuild-controls.html); SNS.1 from its "
        '"Security Hub controls for Amazon SNS" (https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html).'
    ),
    "nist_800_53": (
        "NIST SP 800-53 rev. 5 control titles from turbot/steampipe-mod-aws-compliance nist_800_53_rev_5/*.pp "
        "(commit a1d0b446ef9b96ea64980859fc063d70da20778e)"
    ),
    "soc2": (
        "AICPA Trust Services Criteria (2017) from prowler-cloud/prowler prowler/compliance/aws/soc2_aws.json "
        "(commit 3e000faa3109230b748e4418a13c11c9e59f5cfb); A1.1 from turbot/steampipe-mod-azure-compliance "
        "soc2/cc_a_1.sp (commit d883c0ab1d1df45b4549684b20f154ad2009c45c)"
    ),
}

CIS_EKS = {
    "2.1.1": "Enable audit Logs",
    "2.1.2": "Ensure audit logs are collected and managed",
    "3.1.1": "Ensure that the kubeconfig file permissions are set to 644 or more restrictive",
    "3.1.2": "Ensure that the kubelet kubeconfig file ownership is set to root:root",
    "3.1.3": "Ensure that the kubelet configuration file has permissions set to 644 or more restrictive",
    "3.1.4": "Ensure that the kubelet configuration file ownership is set to root:root",
    "3.2.1": "Ensure that the Anonymous Auth is Not Enabled",
    "3.2.2": "Ensure that the --authorization-mode argument is not set to AlwaysAllow",
    "3.2.3": "Ensure that a Client CA File is Configured",
    "3.2.4": "Ensure that the --read-only-port is disabled",
    "3.2.5": "Ensure that the --streaming-connection-idle-timeout argument is not set to 0",
    "3.2.6": "Ensure that the --make-iptables-util-chains argument is set to true",
    "3.2.7": "Ensure that the --eventRecordQPS argument is set to 0 or a level which ensures appropriate event capture",
    "3.2.8": "Ensure that the --rotate-certificates argument is not present or is set to true",
    "3.2.9": "Ensure that the RotateKubeletServerCertificate argument is set to true",
    "4.1.1": "Ensure that the cluster-admin role is only used where required",
    "4.1.2": "Minimize access to secrets",
    "4.1.3": "Minimize wildcard use in Roles and ClusterRoles",
    "4.1.4": "Minimize access to create pods",
    "4.1.5": "Ensure that default service accounts are not actively used.",
    "4.1.6": "Ensure that Service Account Tokens are only mounted where necessary",
    "4.1.7": (
        "Cluster Access Manager API to streamline and enhance the management of access controls within EKS clusters"
    ),
    "4.1.8": "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster",
    "4.2.1": "Minimize the admission of privileged containers",
    "4.2.2": "Minimize the admission of containers wishing to share the host process ID namespace",
    "4.2.3": "Minimize the admission of containers wishing to share the host IPC namespace",
    "4.2.4": "Minimize the admission of containers wishing to share the host network namespace",
    "4.2.5": "Minimize the admission of containers with allowPrivilegeEscalation",
    "4.3.1": "Ensure CNI plugin supports network policies",
    "4.3.2": "Ensure that all Namespaces have Network Policies defined",
    "4.4.1": "Prefer using secrets as files over secrets as environment variables",
    "4.4.2": "Consider external secret storage",
    "4.5.1": "Create administrative boundaries between resources using namespaces",
    "4.5.2": "The default namespace should not be used",
    "5.1.1": "Ensure Image Vulnerability Scanning using Amazon ECR image scanning or a third party provider",
    "5.1.2": "Minimize user access to Amazon ECR",
    "5.1.3": "Minimize cluster access to read-only for Amazon ECR",
    "5.1.4": "Minimize Container Registries to only those approved",
    "5.2.1": "Prefer using dedicated Amazon EKS Service Accounts",
    "5.3.1": "Ensure Kubernetes Secrets are encrypted using Customer Master Keys (CMKs) managed in AWS KMS",
    "5.4.1": "Restrict Access to the Control Plane Endpoint",
    "5.4.2": "Ensure clusters are created with Private Endpoint Enabled and Public Access Disabled",
    "5.4.3": "Ensure clusters are created with Private Nodes",
    "5.4.4": "Ensure Network Policy is Enabled and set as appropriate",
    "5.4.5": "Encrypt traffic to HTTPS load balancers with TLS certificates",
    "5.5.1": (
        "Manage Kubernetes RBAC users with AWS IAM Authenticator for Kubernetes or Upgrade to AWS CLI "
        "v1.16.156 or greater"
    ),
}

FSBP = {
    # AWS Security Hub User Guide, "Security Hub controls for CodeBuild" (codebuild-controls.html).
    "CodeBuild.2": "CodeBuild project environment variables should not contain clear text credentials",
    "CodeBuild.3": "CodeBuild S3 logs should be encrypted",
    "CodeBuild.4": "CodeBuild project environments should have a logging AWS Configuration",
    "CodeBuild.5": "CodeBuild project environments should not have privileged mode enabled",
    "CloudWatch.16": "CloudWatch log groups should be retained for a specified time period",
    "APIGateway.1": "API Gateway REST and WebSocket API logging should be enabled",
    "APIGateway.2": (
        "API Gateway REST API stages should be configured to use SSL certificates for backend authentication"
    ),
    "APIGateway.3": "API Gateway REST API stages should have AWS X-Ray tracing enabled",
    "APIGateway.4": "API Gateway should be associated with an AWS WAF web ACL",
    "APIGateway.5": "API Gateway REST API cache data should be encrypted at rest",
    "APIGateway.8": "API Gateway routes should specify an authorization type",
    "APIGateway.9": "Access logging should be configured for API Gateway V2 Stages",
    "AutoScaling.3": (
        "Auto Scaling group should configure EC2 instances to require Instance Metadata Service Version 2 (IMDSv2)"
    ),
    "AutoScaling.4": (
        "Auto Scaling group launch configuration should not have metadata response hop limit greater than 1"
    ),
    "EC2.1": "Amazon EBS snapshots should not be public, determined by the ability to be restorable by anyone",
    "EC2.2": "VPC default security groups should not allow inbound or outbound traffic",
    "EC2.3": "Attached EBS volumes should be encrypted at rest",
    "EC2.6": "VPC flow logging should be enabled in all VPCs",
    "EC2.7": "EBS default encryption should be enabled",
    "EC2.8": "EC2 instances should use IMDSv2",
    "EC2.9": "EC2 instances should not have a public IP address",
    "EC2.10": "Amazon EC2 should be configured to use VPC endpoints",
    "EC2.13": "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
    "EC2.14": "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389",
    "EC2.15": "EC2 subnets should not automatically assign public IP addresses",
    "EC2.18": "Security groups should only allow unrestricted incoming traffic for authorized ports",
    "EC2.19": "Security groups should not allow unrestricted access to ports with high risk",
    "EC2.21": "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389",
    "EC2.25": "Amazon EC2 launch templates should not assign public IPs to network interfaces",
    "EC2.170": "EC2 launch templates should use Instance Metadata Service Version 2 (IMDSv2)",
    "EC2.181": "EC2 launch templates should enable encryption for attached EBS volumes",
    "ECR.1": "ECR private repositories should have image scanning configured",
    "ECR.2": "ECR private repositories should have tag immutability configured",
    "EKS.1": "EKS cluster endpoints should not be publicly accessible",
    "EKS.2": "EKS clusters should run on a supported Kubernetes version",
    "EKS.3": "EKS clusters should use encrypted Kubernetes secrets",
    "EKS.8": "EKS clusters should have audit logging enabled",
    "ELB.1": "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS",
    "ELB.4": "Application load balancers should be configured to drop HTTP headers",
    "ELB.5": "Application and Classic Load Balancers logging should be enabled",
    "ELB.6": "Application Load Balancer deletion protection should be enabled",
    "ELB.12": "Application Load Balancers should be configured with defensive or strictest desync mitigation mode",
    "ELB.13": "Application, Network, and Gateway Load Balancers should span multiple Availability Zones",
    "ELB.16": "Application Load Balancers should be associated with an AWS WAF web ACL",
    "IAM.1": "IAM policies should not allow full '*' administrative privileges",
    "IAM.2": "IAM users should not have IAM policies attached",
    "IAM.21": "IAM customer managed policies that you create should not allow wildcard actions for services",
    "KMS.1": "IAM customer managed policies should not allow decryption actions on all KMS keys",
    "KMS.2": "IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys",
    "KMS.3": "AWS KMS keys should not be unintentionally deleted",
    "KMS.4": "AWS KMS key rotation should be enabled",
    "KMS.5": "KMS keys should not be publicly accessible",
    "Lambda.1": "Lambda function policies should prohibit public access",
    "Lambda.2": "Lambda functions should use supported runtimes",
    "Lambda.3": "Lambda functions should be in a VPC",
    "S3.1": "S3 Block Public Access setting should be enabled",
    "S3.2": "S3 buckets should prohibit public read access",
    "S3.3": "S3 buckets should prohibit public write access",
    "S3.5": "S3 buckets should require requests to use Secure Socket Layer",
    "S3.6": "Amazon S3 permissions granted to other AWS accounts in bucket policies should be restricted",
    "S3.7": "S3 general purpose buckets should use cross-Region replication",
    "S3.8": "S3 Block Public Access setting should be enabled at the bucket level",
    "S3.9": "S3 bucket server access logging should be enabled",
    "S3.12": "S3 access control lists (ACLs) should not be used to manage user access to buckets",
    "S3.14": "S3 general purpose buckets should have versioning enabled",
    "S3.17": "S3 general purpose buckets should be encrypted at rest with AWS KMS keys",
    "SNS.1": "SNS topics should be encrypted at-rest using AWS KMS",
    "WAF.10": "AWS WAF web ACLs should have at least one rule or rule group",
    "WAF.11": "AWS WAF web ACL logging should be enabled",
    "WAF.12": "AWS WAF rules should have CloudWatch metrics enabled",
}

NIST_800_53 = {
    "AC-2": "Account Management",
    "AC-3": "Access Enforcement",
    "AC-4": "Information Flow Enforcement",
    "AC-6": "Least Privilege",
    "AC-17": "Remote Access",
    "AC-21": "Information Sharing",
    "AU-2": "Event Logging",
    "AU-3": "Content of Audit Records",
    "AU-6": "Audit Record Review, Analysis And Reporting",
    "AU-8": "Time Stamps",
    "AU-9": "Protection of Audit Information",
    "AU-11": "Audit Record Retention",
    "AU-12": "Audit Record Generation",
    "CM-2": "Baseline Configuration",
    "CM-3": "Configuration Change Control",
    "CM-5": "Access Restrictions For Change",
    "CM-6": "Configuration Settings",
    "CM-7": "Least Functionality",
    "CM-12": "Information Location",
    "CP-2": "Contingency Plan",
    "CP-9": "System Backup",
    "CP-10": "System Recovery And Reconstitution",
    "IA-2": "Identification and Authentication (Organizational users)",
    "IA-5": "Authenticator Management",
    "IA-8": "Identification And Authentication (Non-Organizational Users)",
    "SA-2": "Allocation of Resources",
    "SA-9": "External System Services",
    "SC-5": "Denial Of Service Protection",
    "SC-6": "Resource Availability",
    "SC-7": "Boundary Protection",
    "SC-8": "Transmission Confidentiality And Integrity",
    "SC-12": "Cryptographic Key Establishment And Management",
    "SC-13": "Cryptographic Protection",
    "SC-28": "Protection Of Information At Rest",
    "SI-2": "Flaw Remediation",
    "SI-3": "Malicious Code Protection",
    "SI-4": "System Monitoring",
    "SI-7": "Software, Firmware, and Information Integrity",
    "SI-10": "Information Input Validation",
    "SI-12": "Information Management and Retention",
}

SOC2 = {
    "CC6.1": (
        "The entity implements logical access security software, infrastructure, and architectures over "
        "protected information assets to protect them from security events to meet the entity's objectives"
    ),
    "CC6.2": (
        "Prior to issuing system credentials and granting system access, the entity registers and authorizes "
        "new internal and external users whose access is administered by the entity"
    ),
    "CC6.3": (
        "The entity authorizes, modifies, or removes access to data, software, functions, and other protected "
        "information assets based on roles, responsibilities, or the system design and changes, giving "
        "consideration to the concepts of least privilege and segregation of duties, to meet the entity’s "
        "objectives"
    ),
    "CC6.6": (
        "The entity implements logical access security measures to protect against threats from sources "
        "outside its system boundaries"
    ),
    "CC6.7": (
        "The entity restricts the transmission, movement, and removal of information to authorized internal "
        "and external users and processes, and protects it during transmission, movement, or removal to meet "
        "the entity’s objectives"
    ),
    "CC6.8": (
        "The entity implements controls to prevent or detect and act upon the introduction of unauthorized or "
        "malicious software to meet the entity’s objectives"
    ),
    "CC7.1": (
        "To meet its objectives, the entity uses detection and monitoring procedures to identify (1) changes "
        "to configurations that result in the introduction of new vulnerabilities, and (2) susceptibilities "
        "to newly discovered vulnerabilities"
    ),
    "CC7.2": (
        "The entity monitors system components and the operation of those components for anomalies that are "
        "indicative of malicious acts, natural disasters, and errors affecting the entity's ability to meet "
        "its objectives; anomalies are analyzed to determine whether they represent security events"
    ),
    "CC7.3": (
        "The entity evaluates security events to determine whether they could or have resulted in a failure "
        "of the entity to meet its objectives (security incidents) and, if so, takes actions to prevent or "
        "address such failures"
    ),
    "CC7.4": (
        "The entity responds to identified security incidents by executing a defined incident response "
        "program to understand, contain, remediate, and communicate security incidents, as appropriate"
    ),
    "CC8.1": (
        "The entity authorizes, designs, develops or acquires, configures, documents, tests, approves, and "
        "implements changes to infrastructure, data, software, and procedures to meet its objectives"
    ),
    "A1.1": (
        "The entity maintains, monitors, and evaluates current processing capacity and use of system "
        "components (infrastructure, data, and software) to manage capacity demand and to enable the "
        "implementation of additional capacity to help meet its objectives"
    ),
    "A1.2": (
        "The entity authorizes, designs, develops or acquires, implements, operates, approves, maintains, and "
        "monitors environmental protections, software, data back-up processes, and recovery infrastructure to "
        "meet its objectives"
    ),
    "C1.1": (
        "The entity identifies and maintains confidential information to meet the entity’s objectives related "
        "to confidentiality"
    ),
    "C1.2": (
        "The entity disposes of confidential information to meet the entity’s objectives related to confidentiality"
    ),
    "PI1.3": (
        "Data is processed completely, accurately, and timely as authorized to meet the entity's processing "
        "integrity commitments and system requirements"
    ),
    "PI1.4": (
        "System outputs are complete, accurate, distributed only to intended parties, and retained to meet "
        "the entity's processing integrity commitments and system requirements"
    ),
}

REFERENCE = {"cis_eks": CIS_EKS, "fsbp": FSBP, "nist_800_53": NIST_800_53, "soc2": SOC2}

SHAPES = {
    "cis_eks": re.compile(r"[2-5]\.\d\.\d{1,2}"),
    "fsbp": re.compile(r"[A-Za-z0-9]+\.\d+"),
    "nist_800_53": re.compile(r"[A-Z]{2}-\d+"),
    "soc2": re.compile(r"(CC|A|C|PI|P)\d\.\d+"),
}

# pulumi_policy `framework` names whose references must also be in the review's controls.
FRAMEWORK_FIELDS = {"CIS EKS": "cis_eks", "AWS FSBP": "fsbp", "NIST SP 800-53": "nist_800_53"}


def unknown_controls(controls: Controls) -> list[str]:
    return [
        f"{field} {control}"
        for field, table in REFERENCE.items()
        for control in getattr(controls, field)
        if control not in table
    ]


def reviews() -> list[tuple[str, object]]:
    return [(policy.name, getattr(docs.policy_module(policy), "review", None)) for policy in ALL_POLICIES]


def test_reference_table_ids_have_each_frameworks_shape():
    for field, table in REFERENCE.items():
        assert SOURCES[field]
        for control, title in table.items():
            assert SHAPES[field].fullmatch(control), (field, control)
            assert title.strip(), (field, control)


def test_an_unknown_control_id_is_reported():
    controls = Controls(cis_eks=("5.4.2", "5.4.9"), fsbp=("EKS.99",), nist_800_53=("SC-7",), soc2=("CC6.66",))
    assert unknown_controls(controls) == ["cis_eks 5.4.9", "fsbp EKS.99", "soc2 CC6.66"]


def test_every_policy_has_a_review():
    missing = [name for name, review in reviews() if not isinstance(review, Review)]
    assert not missing, f"policies without a module-level `review = Review(...)`: {', '.join(missing)}"


def test_every_review_area_is_a_reviewers_area():
    for name, review in reviews():
        assert isinstance(review, Review) and review.area in AREAS, name


def test_every_control_id_is_in_the_reference_table():
    unknown = {name: unknown_controls(review.controls) for name, review in reviews() if isinstance(review, Review)}
    assert not {name: ids for name, ids in unknown.items() if ids}


def test_the_primary_framework_control_is_among_the_reviews_controls():
    for policy in ALL_POLICIES:
        framework = policy.framework
        field = FRAMEWORK_FIELDS.get(framework.name) if framework and framework.name else None
        if field is None:
            continue
        review = docs.policy_review(policy)
        for reference in (part.strip() for part in (framework.reference or "").split(",")):
            base = reference.split("(")[0] if field == "nist_800_53" else reference
            assert base in getattr(review.controls, field), (policy.name, reference)


def test_why_is_one_or_two_sentences():
    for name, review in reviews():
        assert isinstance(review, Review), name
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", review.why.strip()) if s]
        assert 1 <= len(sentences) <= 2 and len(review.why) <= 400, name
        assert review.why.rstrip().endswith("."), name


def test_review_rejects_an_unknown_area_and_empty_controls():
    with pytest.raises(ValueError, match="Review.area: 'security'"):
        Review(area="security", controls=Controls(soc2=("CC6.1",)), why="Because.")
    with pytest.raises(ValueError, match="name at least one control"):
        Controls()


def test_docs_name_a_policy_without_review(monkeypatch):
    module = types.ModuleType("policies.fake_unreviewed")
    module.__file__ = str(docs.README.with_name("fake_unreviewed.py"))
    policy = ResourceValidationPolicy(name="fake-unreviewed", description="d", validate=lambda args, report: None)
    setattr(module, "policy", policy)  # noqa: B010 (a module attribute pyright cannot know)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with pytest.raises(LookupError, match="policy fake-unreviewed .*has no module-level `review"):
        docs.policy_review(policy)
