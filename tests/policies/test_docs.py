from collections import Counter

import pytest

from policies import docs
from policies.registry import ALL_POLICIES
from policies.review import AREAS


def test_readme_is_generated_from_the_pack():
    assert docs.README.read_text(encoding="utf-8") == docs.render(), "run: python -m policies.docs"


def test_every_policy_is_documented_for_reviewers():
    names = [policy.name for policy in ALL_POLICIES]
    assert len(names) == len(set(names))
    for policy in ALL_POLICIES:
        assert policy.description and policy.remediation_steps and policy.severity, policy.name
        assert docs.policy_path(policy).startswith("policies/")


def test_every_area_has_a_title_and_an_intro():
    assert tuple(docs.AREA_TITLES) == AREAS
    assert tuple(docs.AREA_INTROS) == AREAS


def test_readme_lists_each_policy_under_its_area_in_the_areas_order():
    text = docs.render()
    areas = [area for area in AREAS if any(docs.policy_review(p).area == area for p in ALL_POLICIES)]
    starts = [text.index(f"\n## {docs.AREA_TITLES[area]}\n") for area in areas]
    assert starts == sorted(starts)
    bounds = dict(zip(areas, zip(starts, [*starts[1:], len(text)], strict=True), strict=True))
    for policy in ALL_POLICIES:
        start, end = bounds[docs.policy_review(policy).area]
        assert start < text.index(f"\n### {policy.name}\n") < end, policy.name
        assert text.count(f"](#{policy.name})") == 1, policy.name


def test_readme_summary_counts_policies_by_area_and_enforcement():
    by_area = Counter(docs.policy_review(policy).area for policy in ALL_POLICIES)
    by_level = Counter(policy.enforcement_level.value for policy in ALL_POLICIES)
    summary = next(line for line in docs.render().splitlines() if line.startswith("**"))
    assert summary.startswith(f"**{len(ALL_POLICIES)} policies.**")
    for area, count in by_area.items():
        assert f"{area} {count}" in summary
    for level, count in by_level.items():
        assert f"{level} {count}" in summary


def test_readme_details_carry_why_and_every_control():
    text = docs.render()
    for policy in ALL_POLICIES:
        review = docs.policy_review(policy)
        section = text[text.index(f"\n### {policy.name}\n") :].split("\n### ", 2)[1]
        assert f"**Why it matters:** {review.why}" in section, policy.name
        for framework, ids in review.controls.rows():
            assert f"  - {framework}: {', '.join(ids)}" in section, policy.name


def test_no_arguments_write_the_readme(tmp_path, capsys):
    readme = tmp_path / "README.md"
    assert docs.main([], readme=readme) == 0
    assert readme.read_text(encoding="utf-8") == docs.render()
    assert capsys.readouterr().out == f"wrote {readme}\n"


def test_check_passes_on_a_fresh_readme_and_fails_on_a_stale_one(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(docs.render(), encoding="utf-8")
    assert docs.main(["--check"], readme=readme) == 0
    readme.write_text("stale\n", encoding="utf-8")
    assert docs.main(["--check"], readme=readme) == 1
    assert readme.read_text(encoding="utf-8") == "stale\n"
    assert capsys.readouterr().err == f"{readme} is out of date: run python -m policies.docs\n"
    assert docs.main(["--check"], readme=tmp_path / "missing.md") == 1


def test_help_prints_usage_and_writes_nothing(tmp_path, capsys):
    readme = tmp_path / "README.md"
    with pytest.raises(SystemExit) as exit_info:
        docs.main(["--help"], readme=readme)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m policies.docs") and "--check" in out
    assert not readme.exists()
