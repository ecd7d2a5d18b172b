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
    # The version new clusters run: 1.33 left EKS standard support on 2026-07-29, 1.34 leaves it
    # on 2026-12-02, 1.35 keeps it until 2027-03-27. kube-proxy, coredns and vpc-cni are from
    # the EKS user guide's per-version tables; the other three from published 1.35 pins, to
    # confirm with `aws eks describe-addon-versions --kubernetes-version 1.35` (README).
    "1.35": {
        "vpc-cni": "v1.21.1-eksbuild.7",
        "kube-proxy": "v1.35.3-eksbuild.13",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "coredns": "v1.14.3-eksbuild.3",
        "aws-ebs-csi-driver": "v1.63.1-eksbuild.1",
        "metrics-server": "v0.9.0-eksbuild.5",
    },
}
