"""What the stack file says about cost: every instance type it names has a price in the price list
(components/catalog.py), never a $0 line."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, error_of, stack_values

from components import catalog
from llmstack.cli import main
from stacks.config import ConfigError, parse_platform_config


@pytest.fixture
def without_price(monkeypatch):
    """Take one type's hourly price out of the price list (its hardware stays in the catalog)."""

    def remove(name: str) -> None:
        prices = dict(catalog._ON_DEMAND_USD_PER_HOUR)
        del prices[name]
        monkeypatch.setattr(catalog, "_ON_DEMAND_USD_PER_HOUR", prices)

    return remove


def priced_except(name: str) -> str:
    return ", ".join(n for n in catalog.priced_instance_types() if n != name)


def error_without_price(stack: str, name: str, without_price) -> str:
    values = stack_values(stack)  # read (and validated) before the price goes
    without_price(name)
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(values)
    return str(caught.value)


def test_every_type_the_committed_stacks_name_is_priced():
    for name in ("p5.48xlarge", "g5.12xlarge", "g5.2xlarge", "m6i.xlarge", "m6i.large"):
        assert catalog.on_demand_usd_per_hour(name) > 0


def test_the_price_list_prices_only_catalog_hardware():
    hardware = {i.name for key in (*catalog.gpu_keys(), None) for i in catalog.instance_types_for(key)}
    assert set(catalog.priced_instance_types()) <= hardware


def test_an_unpriced_gpu_node_group_type_is_a_config_error(without_price):
    assert error_without_price("prod", "g5.12xlarge", without_price) == (
        "regions[0].node_groups[1].instance_type: no price for 'g5.12xlarge' in components/catalog.py "
        f"(priced: {priced_except('g5.12xlarge')})"
    )


def test_an_unpriced_system_node_type_is_a_config_error(without_price):
    assert error_without_price("dev", "m6i.large", without_price) == (
        "regions[0].cluster.system_nodes.instance_type: no price for 'm6i.large' in components/catalog.py "
        f"(priced: {priced_except('m6i.large')})"
    )


def test_an_unpriced_default_instance_type_is_never_chosen(without_price):
    # The node group names no type: the default is the GPU's cheapest *priced* type.
    values = stack_values("dev")
    del values["regions"][0]["node_groups"][0]["instance_type"]
    assert parse_platform_config(values).regions[0].node_groups[0].resolved_instance_type == "g5.xlarge"
    without_price("g5.xlarge")
    group = parse_platform_config(values).regions[0].node_groups[0]
    assert group.resolved_instance_type == "g5.2xlarge"


def test_an_unknown_type_still_lists_the_gpus_types():
    message = error_of("dev", lambda v: v["regions"][0]["node_groups"][0].update(instance_type="p5e.48xlarge"))
    assert message == (
        "regions[0].node_groups[0].instance_type: unknown instance type 'p5e.48xlarge'; allowed for gpu 'a10g': "
        "g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge"
    )


def test_plan_exits_2_on_an_unpriced_type_and_writes_nothing(tmp_path, capsys, monkeypatch, without_price):
    monkeypatch.chdir(ROOT)
    without_price("g5.2xlarge")
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump(document))
    out = tmp_path / "out"
    assert main(["plan", "--config", str(stack), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "llmstack plan: error: Pulumi.dev.yaml: regions[0].node_groups[0].instance_type: no price for 'g5.2xlarge' in "
        f"components/catalog.py (priced: {priced_except('g5.2xlarge')})"
    ]
    assert not out.exists()


# --- the traffic assumption -----------------------------------------------------------------------


def traffic_of(values, model):
    return values["traffic"]["models"][model]


@pytest.mark.parametrize(
    ("stack", "mutate", "expected"),
    [
        (
            "prod",
            lambda v: v["traffic"]["models"].update(
                {"llama-4": {"requests_per_month": 1, "mean_input_tokens": 1, "mean_output_tokens": 1}}
            ),
            "traffic.models.llama-4: unknown model 'llama-4'; allowed: llama-3-70b-instruct, llama-3-8b-instruct, "
            "mistral-7b-private, llama-3-8b-batch",
        ),
        (
            "prod",
            lambda v: v["traffic"]["models"].pop("llama-3-8b-instruct"),
            "traffic.models: missing 'llama-3-8b-instruct': every model behind the gateway needs its traffic stated "
            "(requests_per_month, mean_input_tokens, mean_output_tokens)",
        ),
        (
            "prod",
            lambda v: traffic_of(v, "llama-3-70b-instruct").update(mean_input_tokens=9000),
            "traffic.models.llama-3-70b-instruct.mean_input_tokens: must be <= the model's max_input_tokens (8192)",
        ),
        (
            "dev",
            lambda v: traffic_of(v, "llama-3-8b-instruct").update(mean_input_tokens=4000, mean_output_tokens=4500),
            "traffic.models.llama-3-8b-instruct.mean_output_tokens: mean_input_tokens + mean_output_tokens must be <= "
            "the model's max_total_tokens (8192)",
        ),
        (
            # The assistant tenant's 5M a month in us-east-1 is all the gateway admits for the 70B.
            "prod",
            lambda v: traffic_of(v, "llama-3-70b-instruct").update(requests_per_month=5_000_001),
            "traffic.models.llama-3-70b-instruct.requests_per_month: 5000001 exceeds what the gateway admits for "
            "'llama-3-70b-instruct' a month, its tenants' quotas x regions (assistant 5000000 x 1 = 5000000)",
        ),
        (
            # search and assistant in both regions, eu-support in eu-west-1 only.
            "prod",
            lambda v: traffic_of(v, "llama-3-8b-instruct").update(requests_per_month=60_000_000),
            "traffic.models.llama-3-8b-instruct.requests_per_month: 60000000 exceeds what the gateway admits for "
            "'llama-3-8b-instruct' a month, its tenants' quotas x regions (search 20000000 x 2 + assistant 5000000 x "
            "2 + eu-support 2000000 x 1 = 52000000)",
        ),
        (
            "dev",
            lambda v: traffic_of(v, "llama-3-8b-instruct").update(requests_per_month=-1),
            "traffic.models.llama-3-8b-instruct.requests_per_month: must be >= 0",
        ),
        (
            "dev",
            lambda v: traffic_of(v, "llama-3-8b-instruct").pop("mean_output_tokens"),
            "traffic.models.llama-3-8b-instruct.mean_output_tokens: is required",
        ),
        (
            "dev",
            lambda v: v["traffic"].update(response_bytes_per_output_token=0),
            "traffic.response_bytes_per_output_token: must be >= 1",
        ),
        ("dev", lambda v: v["traffic"].update(models={}), "traffic.models: must have at least 1 item(s)"),
        (
            "dev",
            lambda v: traffic_of(v, "llama-3-8b-instruct").update(requests=5),
            "traffic.models.llama-3-8b-instruct.requests: unknown key; did you mean 'requests_per_month'?",
        ),
    ],
)
def test_traffic_validation_message(stack, mutate, expected):
    assert error_of(stack, mutate) == expected


def test_traffic_is_optional_and_on_prem_models_may_be_left_out():
    values = stack_values("prod")
    assert parse_platform_config(values).traffic is not None
    traffic_of(values, "llama-3-8b-batch")  # on hybrid nodes, no gateway: optional
    del values["traffic"]["models"]["llama-3-8b-batch"]
    assert "llama-3-8b-batch" not in parse_platform_config(values).traffic.models  # type: ignore[union-attr]
    del values["traffic"]
    assert parse_platform_config(values).traffic is None
