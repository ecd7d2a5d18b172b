"""What a security reviewer reads beside each policy: its area, the controls it maps to, and why it
matters for LLM serving.

Every policy module defines, next to `policy`, a module-level `review = Review(...)`.
`policies/docs.py` groups the generated README by `area`; a test requires a `review` on every
registered policy. pulumi_policy's `framework` field holds one control only, so the full mapping
lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a reviewer signs off, in the order the README lists them.
AREAS = ("identity", "network", "data", "compute", "kubernetes", "cost")


@dataclass(frozen=True)
class Controls:
    """Control identifiers, as each framework writes them.

    cis_eks: CIS Amazon EKS Benchmark v1.7.0 recommendations (e.g. "4.1.1"; 4.1.7 and 4.5.2 differ from v1.5).
    fsbp: AWS Foundational Security Best Practices controls, as Security Hub numbers them (e.g. "S3.17").
    nist_800_53: NIST SP 800-53 rev. 5 base controls (e.g. "AC-6", "SC-28").
    soc2: SOC 2 trust services criteria, 2017 (e.g. "CC6.1").

    tests/policies/test_review.py holds the cited reference table every id must be in.
    """

    cis_eks: tuple[str, ...] = ()
    fsbp: tuple[str, ...] = ()
    nist_800_53: tuple[str, ...] = ()
    soc2: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.cis_eks or self.fsbp or self.nist_800_53 or self.soc2):
            raise ValueError("Controls: name at least one control")

    def rows(self) -> list[tuple[str, tuple[str, ...]]]:
        named = (
            ("CIS Amazon EKS Benchmark v1.7.0", self.cis_eks),
            ("AWS Foundational Security Best Practices", self.fsbp),
            ("NIST SP 800-53 rev. 5", self.nist_800_53),
            ("SOC 2 (TSC 2017)", self.soc2),
        )
        return [(name, ids) for name, ids in named if ids]


@dataclass(frozen=True)
class Review:
    """area: one of AREAS. controls: the frameworks' controls. why: one or two sentences on what
    breaks for an LLM-serving platform (weights, prompts, GPU spend, tenants) when this fails."""

    area: str
    controls: Controls
    why: str

    def __post_init__(self) -> None:
        if self.area not in AREAS:
            raise ValueError(f"Review.area: {self.area!r} is not one of {', '.join(AREAS)}")
        if not self.why.strip():
            raise ValueError("Review.why: say why the policy matters for LLM serving")
