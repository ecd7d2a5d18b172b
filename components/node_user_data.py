"""User data for AL2023 EKS GPU nodes (nodeadm), rendered as MIME multi-part. Pure: no Pulumi.

Two parts, in this order:

1. `application/node.eks.aws`: a nodeadm `NodeConfig` that only sets
   `spec.instance.localStorage.strategy: RAID0`, so nodeadm assembles the instance-store NVMe
   disks into one RAID0 array mounted at `NVME_ARRAY_MOUNT` (`/mnt/k8s-disks/0`). The node groups
   use a launch template without a custom AMI, so EKS merges its own NodeConfig (cluster name,
   endpoint, CA, CIDR) into this user data: cluster details must not appear here.
2. `text/x-shellscript`: installs and starts a systemd unit that creates `NVME_MODELS_PATH`
   owned by `MODEL_SERVER_UID` with mode 0750, the hot weight tier model servers mount.

Why a unit and not a plain `mkdir` in the script: cloud-init runs user scripts in
`cloud-final.service`, and nodeadm sets local storage up in its *run* phase
(`nodeadm-run.service`, ordered `After=cloud-final.service`; older AMIs run the
`setup-local-disks.service` oneshot, ordered only before containerd and kubelet). Either way the
array is usually not mounted yet when the script runs, and a directory made then would land on the
root volume and be hidden by the mount. The unit waits (bounded) until the array is a mount point,
then creates the directory; it is enabled, so it runs again on every boot. It is started with
`--no-block`, so cloud-init (and therefore nodeadm-run, which waits for cloud-final) never waits on
it. Until it finishes, model server pods stay ContainerCreating: their hostPath has
`type: Directory`, which the kubelet retries. If the array never appears the unit fails instead of
putting weights on the root volume.

The boundary is fixed so the output, and with it the launch template, is deterministic.
"""

from __future__ import annotations

from components.conventions import MODEL_SERVER_UID, NVME_ARRAY_MOUNT, NVME_MODELS_PATH

BOUNDARY = "==LLMSERVING-NODE-USER-DATA=="
NODEADM_CONTENT_TYPE = "application/node.eks.aws"
SCRIPT_CONTENT_TYPE = 'text/x-shellscript; charset="us-ascii"'
LOCAL_STORAGE_STRATEGY = "RAID0"
MODELS_DIR_MODE = "0750"
MODELS_DIR_UNIT = "llm-serving-nvme-models.service"
MODELS_DIR_SCRIPT = "/usr/local/sbin/llm-serving-nvme-models"
# 360 x 5 s: nodeadm's RAID0 of 8 NVMe disks (p5) takes well under a minute; 30 minutes is a
# generous bound before declaring the node's hot tier broken.
MOUNT_WAIT_ATTEMPTS = 360
MOUNT_WAIT_SECONDS = 5


def node_config() -> str:
    """The nodeadm NodeConfig document (YAML): local storage only; EKS adds the cluster part."""
    return (
        "---\n"
        "apiVersion: node.eks.aws/v1alpha1\n"
        "kind: NodeConfig\n"
        "spec:\n"
        "  instance:\n"
        "    localStorage:\n"
        f"      strategy: {LOCAL_STORAGE_STRATEGY}\n"
    )


def models_dir_script() -> str:
    """The script the unit runs: wait for the array, then make the models directory on it."""
    uid = MODEL_SERVER_UID
    return (
        "#!/bin/bash\n"
        "# Creates the model weight hot tier on nodeadm's instance-store RAID0, never on the root volume.\n"
        "set -euo pipefail\n"
        f"for _ in $(seq 1 {MOUNT_WAIT_ATTEMPTS}); do\n"
        f"  if mountpoint -q {NVME_ARRAY_MOUNT}; then\n"
        f"    mkdir -p {NVME_MODELS_PATH}\n"
        f"    chown {uid}:{uid} {NVME_MODELS_PATH}\n"
        f"    chmod {MODELS_DIR_MODE} {NVME_MODELS_PATH}\n"
        "    exit 0\n"
        "  fi\n"
        f"  sleep {MOUNT_WAIT_SECONDS}\n"
        "done\n"
        f'echo "{NVME_ARRAY_MOUNT} is not mounted (no RAID0 of the instance store); not creating '
        f'{NVME_MODELS_PATH}" >&2\n'
        "exit 1\n"
    )


def models_dir_unit() -> str:
    """The systemd unit that runs `models_dir_script` once per boot."""
    timeout = MOUNT_WAIT_ATTEMPTS * MOUNT_WAIT_SECONDS + 60
    return (
        "[Unit]\n"
        "Description=llm-serving: model weight directory on the instance-store RAID0\n"
        "After=local-fs.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        f"TimeoutStartSec={timeout}\n"
        f"ExecStart={MODELS_DIR_SCRIPT}\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def shell_script() -> str:
    """The cloud-init user script: install the unit and its script, enable, start without waiting."""
    return (
        "#!/bin/bash\n"
        "set -euo pipefail\n"
        f"cat > {MODELS_DIR_SCRIPT} <<'SCRIPT'\n"
        f"{models_dir_script()}"
        "SCRIPT\n"
        f"chmod 0755 {MODELS_DIR_SCRIPT}\n"
        f"cat > /etc/systemd/system/{MODELS_DIR_UNIT} <<'UNIT'\n"
        f"{models_dir_unit()}"
        "UNIT\n"
        "systemctl daemon-reload\n"
        f"systemctl enable {MODELS_DIR_UNIT}\n"
        f"systemctl start --no-block {MODELS_DIR_UNIT}\n"
    )


def render() -> str:
    """The complete MIME multi-part user data (plain text; the launch template wants it base64)."""
    parts = [(NODEADM_CONTENT_TYPE, node_config()), (SCRIPT_CONTENT_TYPE, shell_script())]
    lines = ["MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"', ""]
    for content_type, body in parts:
        lines += [f"--{BOUNDARY}", f"Content-Type: {content_type}", "", body]
    lines.append(f"--{BOUNDARY}--")
    return "\n".join(lines) + "\n"
