"""Pinned EKS add-on versions per Kubernetes minor version (pure data, no Pulumi import).

GpuCluster installs exactly these; the stack config accepts only a `kubernetes_version` with a row
here, so a version upgrade starts by adding its row (versions from `aws eks describe-addon-versions
--kubernetes-version <minor> --addon-name <name>`).
"""

from __future__ import annotations

ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        "vpc-cni": "v1.19.5-eksbuild.1",
        "kube-proxy": "v1.33.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
        "coredns": "v1.12.1-eksbuild.2",
        "aws-ebs-csi-driver": "v1.48.0-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.1",
    },
}
