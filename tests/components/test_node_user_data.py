"""GPU node user data (nodeadm MIME multi-part): golden file plus what the file must say.

Regenerate the golden file after an intended change with
`UPDATE_GOLDEN=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/components/test_node_user_data.py`
and review its diff like code: it is what every GPU node boots with.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components import node_user_data
from components.conventions import MODEL_SERVER_UID, NVME_ARRAY_MOUNT, NVME_MODELS_PATH, NVME_MOUNT

GOLDEN = Path(__file__).parent / "golden" / "node_user_data_gpu.txt"


def parts() -> dict[str, str]:
    message = email.message_from_string(node_user_data.render())
    assert message.is_multipart()
    return {part.get_content_type(): part.get_payload() for part in message.get_payload()}


def test_rendered_user_data_matches_the_golden_file():
    rendered = node_user_data.render()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text()


def test_rendering_is_deterministic():
    assert node_user_data.render() == node_user_data.render()
    assert f'boundary="{node_user_data.BOUNDARY}"' in node_user_data.render()


def test_mime_has_a_node_config_then_a_shell_script():
    message = email.message_from_string(node_user_data.render())
    assert message["MIME-Version"] == "1.0"
    types = [part.get_content_type() for part in message.get_payload()]
    assert types == ["application/node.eks.aws", "text/x-shellscript"]


def test_node_config_sets_raid0_and_nothing_eks_merges_itself():
    (config,) = list(yaml.safe_load_all(parts()["application/node.eks.aws"]))
    assert config == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"instance": {"localStorage": {"strategy": "RAID0"}}},
    }


def test_models_directory_is_on_the_array_not_the_root_volume():
    assert (NVME_MOUNT, NVME_ARRAY_MOUNT) == ("/mnt/k8s-disks", "/mnt/k8s-disks/0")  # nodeadm RAID0: ${MNT_DIR}/0
    assert NVME_MODELS_PATH.startswith(NVME_ARRAY_MOUNT + "/")
    script = node_user_data.models_dir_script()
    assert f"mountpoint -q {NVME_ARRAY_MOUNT}" in script
    # The directory is only made once the array is mounted: mkdir comes after the mount check.
    assert script.index("mountpoint -q") < script.index(f"mkdir -p {NVME_MODELS_PATH}")
    assert f"chown {MODEL_SERVER_UID}:{MODEL_SERVER_UID} {NVME_MODELS_PATH}" in script
    assert f"chmod 0750 {NVME_MODELS_PATH}" in script
    assert script.rstrip().endswith("exit 1")


def test_user_script_installs_an_enabled_unit_and_does_not_block_cloud_init():
    script = parts()["text/x-shellscript"]
    unit = node_user_data.MODELS_DIR_UNIT
    assert f"systemctl enable {unit}" in script
    assert f"systemctl start --no-block {unit}" in script
    assert "WantedBy=multi-user.target" in node_user_data.models_dir_unit()
    timeout = int(node_user_data.models_dir_unit().split("TimeoutStartSec=")[1].split()[0])
    assert timeout > node_user_data.MOUNT_WAIT_ATTEMPTS * node_user_data.MOUNT_WAIT_SECONDS


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
@pytest.mark.parametrize("script", [node_user_data.shell_script(), node_user_data.models_dir_script()])
def test_scripts_are_valid_bash(script):
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
