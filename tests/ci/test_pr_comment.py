""".github/scripts/pr_comment.py against a fake GitHub REST API on 127.0.0.1, on real dev plans: the
base branch's and a change's (a node group's max_nodes) planned with --base.

The script runs as the comment job runs it (its own process, GITHUB_API_URL pointing at the fake).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from llmstack import report
from llmstack.cli import main as llmstack

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "pr_comment.py"
REPO, PR, TOKEN, BOT = "example-org/llm-serving", 7, "test-token", "github-actions[bot]"
MARKER = "<!-- llm-serving-plan stack=dev -->"
PREVIEW_OUTPUT = """\
Previewing update (dev)

     Type                              Name                 Plan       Info
     pulumi:pulumi:Stack               llm-serving-dev
 ~   └─ aws:eks:NodeGroup              us-east-1-a10g       update     [diff: ~scalingConfig]

Policies:
    ✅ llm-serving-policies@v0.1.0 (local: policies)

Resources:
    ~ 1 to update
    224 unchanged
"""


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pr_comment", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pr_comment = load_script()


# --- the plans ----------------------------------------------------------------------------------


def result(code: int, error: str = "", compared: bool = True) -> dict[str, Any]:
    """result.json as .github/scripts/preview.sh writes it (tests/ci/test_preview_script.py checks that)."""
    return {
        "stack": "dev",
        "exit_code": code,
        "error": error,
        "base": {"exit_code": 0, "error": "", "compared": compared},
    }


def plan_dir(root: Path, head: Path | None, outcome: dict[str, Any]) -> Path:
    """A folder laid out as preview.sh leaves it: head/ (the plan) and result.json."""
    root.mkdir(parents=True)
    if head is not None:
        shutil.copytree(head, root / "head")
    (root / "result.json").write_text(json.dumps(outcome))
    return root


def changed_stack(folder: Path, group: str, max_nodes: int) -> Path:
    """A copy of Pulumi.dev.yaml with another max_nodes for a node group: `system` or `a10g`."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    region = document["config"]["llm-serving:regions"][0]
    [a10g] = region["node_groups"]
    nodes = region["cluster"]["system_nodes"] if group == "system" else a10g
    nodes["max_nodes"] = max_nodes
    folder.mkdir()
    path = folder / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dev stack's plan; a change to it (system nodes max_nodes 3 -> 4) and one the budget refuses
    (a10g max_nodes 2 -> 4), each planned against it with --base."""
    root = tmp_path_factory.mktemp("plans")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        assert llmstack(["plan", "--stack", "dev", "--out", str(root / "base")]) == 0
        for name, group, max_nodes, code in (("head", "system", 4, 0), ("over-budget", "a10g", 4, 1)):
            stack = changed_stack(root / f"{name}-stack", group, max_nodes)
            argv = ["plan", "--config", str(stack), "--out", str(root / name), "--base", str(root / "base")]
            assert llmstack(argv) == code
    return {"base": root / "base", "head": root / "head", "over-budget": root / "over-budget"}


# --- a fake GitHub ------------------------------------------------------------------------------


class FakeGitHub(ThreadingHTTPServer):
    """Issue comments of one repository, as the REST API serves them (pages of per_page, Link headers)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.next_id = 1000

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, number: int, body: str, login: str = BOT) -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": {"login": login, "type": "Bot" if "[bot]" in login else "User"},
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def mine(self, number: int = PR) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(number, []) if c["user"]["login"] == BOT]


class Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.answer(401, {"message": "Bad credentials"})
            return False
        return True

    def body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def valid_body(self, body: Any) -> bool:
        if not isinstance(body, str) or len(body.encode("utf-16-le")) // 2 > 65_536:
            self.answer(422, {"message": "Validation Failed: body is too long (maximum is 65536 characters)"})
            return False
        return True

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        if not self.authorised():
            return
        url = urlsplit(self.path)
        match = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)/comments", url.path)
        if not match:
            return self.answer(404, {"message": "Not Found"})
        query = parse_qs(url.query)
        per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
        comments = self.server.comments.get(int(match.group(1)), [])
        chunk = comments[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(comments):
            headers["Link"] = f'<{self.server.url}{url.path}?per_page={per_page}&page={page + 1}>; rel="next"'
        self.answer(200, chunk, headers)

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path))
        if not self.authorised():
            return
        match = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)/comments", self.path)
        body = self.body().get("body")
        if not match:
            return self.answer(404, {"message": "Not Found"})
        if self.valid_body(body):
            self.answer(201, self.server.add(int(match.group(1)), str(body)))

    def do_PATCH(self) -> None:
        self.server.requests.append(("PATCH", self.path))
        if not self.authorised():
            return
        match = re.fullmatch(rf"/repos/{REPO}/issues/comments/(\d+)", self.path)
        body = self.body().get("body")
        found = [c for cs in self.server.comments.values() for c in cs if match and c["id"] == int(match.group(1))]
        if not found:
            return self.answer(404, {"message": "Not Found"})
        if found[0]["user"]["login"] != BOT:
            return self.answer(403, {"message": "Resource not accessible by integration"})
        if self.valid_body(body):
            found[0]["body"] = body
            self.answer(200, found[0])


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_script(
    github: FakeGitHub, plan: Path, *extra: str, token: str = TOKEN, stack: str = "dev", summary: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTHON"))}
    env.update({"GITHUB_API_URL": github.url, "GITHUB_TOKEN": token})
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    argv = ["--repo", REPO, "--pr", str(PR), "--stack", stack, "--plan-dir", str(plan), *extra]
    return subprocess.run(
        [sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, env=env, timeout=60, check=False
    )


# --- tests --------------------------------------------------------------------------------------


def test_the_marker_is_the_reports_first_line(plans):
    assert pr_comment.marker("dev") == report.comment_marker("dev") == MARKER
    assert (plans["head"] / "report.md").read_text().splitlines()[0] == MARKER


def test_creates_the_comment_then_updates_the_same_one(github, plans, tmp_path):
    for n in range(150):  # the bot's comment lands on the second page
        github.add(PR, f"comment {n}", login="someone")
    quoted = github.add(PR, f"{MARKER}\nquoting the bot", login="alice")  # a person's comment is never edited
    github.add(PR + 1, f"{MARKER}\nanother pull request's comment")
    plan = plan_dir(tmp_path / "plan", plans["head"], result(0))

    first = run_script(github, plan)
    assert (first.returncode, first.stderr) == (0, "")
    assert re.fullmatch(r"dev: created comment \d+ on #7 \([\d,]+ characters\)\n", first.stdout)
    [comment] = github.mine()
    summary = json.loads((plans["head"] / "diff.json").read_text())["summary"]
    assert summary == "+0 ~1 -0, +$0/month (+0.0 %), policy PASS"
    assert comment["body"].splitlines()[:2] == [MARKER, f"## llm-serving `dev`: {summary}"]
    assert "scalingConfig.maxSize" in comment["body"]

    second = run_script(github, plan, "--preview", str(preview(tmp_path, PREVIEW_OUTPUT, 0)))
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout.startswith(f"dev: updated comment {comment['id']} on #7")
    assert github.mine() == [comment]  # the same comment, edited; no second one
    assert "### `pulumi preview` with the policy pack: passed" in comment["body"]
    assert [method for method, _ in github.requests].count("POST") == 1
    assert [method for method, _ in github.requests].count("PATCH") == 1
    assert quoted["body"] == f"{MARKER}\nquoting the bot"
    assert len(github.comments[PR + 1]) == 1


def test_each_stack_has_its_own_comment_and_a_bad_stack_file_fails_after_posting(github, plans, tmp_path):
    dev = plan_dir(tmp_path / "dev", plans["head"], result(0))
    error = "llmstack plan: error: Pulumi.prod.yaml: regions[0].node_groups[0].max_nodes: must be >= min_nodes (2)"
    prod = plan_dir(tmp_path / "prod", None, {**result(2, error), "stack": "prod"})

    assert run_script(github, dev).returncode == 0
    bad = run_script(github, prod, stack="prod")

    assert bad.returncode == 2  # the job fails: after the comment is there
    dev_comment, prod_comment = github.mine()
    assert dev_comment["body"].startswith(MARKER)
    assert prod_comment["body"].splitlines()[:2] == [
        "<!-- llm-serving-plan stack=prod -->",
        "## llm-serving `prod`: bad stack file, no plan",
    ]
    assert f"```text\n{error}\n```" in prod_comment["body"]


def test_a_mandatory_violation_is_posted_then_exits_1(github, plans, tmp_path):
    plan = plan_dir(tmp_path / "plan", plans["over-budget"], result(1))
    outcome = run_script(github, plan)
    assert outcome.returncode == 1
    [comment] = github.mine()
    assert comment["body"].splitlines()[1].endswith("policy FAIL")
    assert "| mandatory |" in comment["body"] and "`cost-ceiling-within-budget`" in comment["body"]


def test_a_failed_preview_fails_a_passing_plan(github, plans, tmp_path):
    failed = PREVIEW_OUTPUT.replace("✅", "❌") + "error: preview failed\n"
    plan = plan_dir(tmp_path / "plan", plans["head"], result(0))
    outcome = run_script(github, plan, "--preview", str(preview(tmp_path, failed, 255)))
    assert outcome.returncode == 1
    [comment] = github.mine()
    assert "### `pulumi preview` with the policy pack: failed (exit code 255)" in comment["body"]


def test_a_missing_plan_is_said_in_the_comment(github, tmp_path):
    empty = tmp_path / "plan-out"
    empty.mkdir()
    outcome = run_script(github, empty, "--run-url", "https://github.com/example-org/llm-serving/actions/runs/9")
    assert outcome.returncode == 3
    [comment] = github.mine()
    assert "The plan job wrote no result: it failed before planning ([the run](https://github.com" in comment["body"]


def test_an_unplanned_base_is_noted(github, plans, tmp_path):
    outcome = {**result(0, compared=False), "base": {"exit_code": 2, "error": "no such stack file", "compared": False}}
    plan = plan_dir(tmp_path / "plan", plans["head"], outcome)
    assert run_script(github, plan).returncode == 0
    assert "_Not compared with the base branch (no such stack file)" in github.mine()[0]["body"]


def test_summary_mode_posts_nothing_and_writes_the_job_summary(github, plans, tmp_path):
    plan = plan_dir(tmp_path / "plan", plans["head"], result(0))
    summary = tmp_path / "summary.md"
    outcome = run_script(github, plan, "--mode", "summary", summary=summary)
    assert (outcome.returncode, outcome.stderr) == (0, "")
    assert github.requests == []
    assert summary.read_text().startswith(MARKER)


def test_a_refused_token_is_one_line_and_exit_3(github, plans, tmp_path):
    plan = plan_dir(tmp_path / "plan", plans["head"], result(0))
    outcome = run_script(github, plan, token="wrong")
    assert outcome.returncode == 3
    assert re.fullmatch(r"pr_comment: GET http://127\.0\.0\.1:\d+/\S+: HTTP 401: Bad credentials\n", outcome.stderr)
    assert github.mine() == []


def preview(tmp_path: Path, output: str, code: int) -> Path:
    folder = tmp_path / f"preview-{code}"
    folder.mkdir(exist_ok=True)
    (folder / "output.txt").write_text(output)
    (folder / "exit-code").write_text(f"{code}\n")
    return folder


def long_report(plans: dict[str, Path]) -> str:
    """The head's report with thousands of change rows added inside an open <details> and code fence."""
    text = (plans["head"] / "report.md").read_text()
    rows = "\n".join(f"| `aws:ec2/instance:Instance` | `node-{n:05}` | update | `tags.n` 🚀 |" for n in range(4000))
    return text + "\n<details><summary>All changes</summary>\n\n```text\n" + rows + "\n```\n\n</details>\n"


def test_a_long_report_is_cut_under_the_limit_keeping_the_marker_and_the_preview(github, plans, tmp_path):
    plan = plan_dir(tmp_path / "plan", plans["head"], result(0))
    (plan / "head" / "report.md").write_text(long_report(plans))
    assert pr_comment.github_length((plan / "head" / "report.md").read_text()) > 200_000

    outcome = run_script(
        github, plan, "--preview", str(preview(tmp_path, PREVIEW_OUTPUT, 0)), "--run-url", "https://x/run/1",
        "--artifact", "plan-dev",
    )  # fmt: skip

    assert (outcome.returncode, outcome.stderr) == (0, "")
    [comment] = github.mine()
    body = comment["body"]
    assert 60_000 < pr_comment.github_length(body) <= pr_comment.MAX_BODY
    assert body.startswith(MARKER + "\n")
    assert "_The report is cut here to fit GitHub's comment limit; the whole report.md is in the `plan-dev`" in body
    assert body.rstrip().endswith("</details>")  # the preview section, whole, after the note
    assert "Resources:\n    ~ 1 to update\n    224 unchanged" in body
    cut = body.split("_The report is cut here")[0]
    assert cut.count("<details") == cut.count("</details>")
    assert len(re.findall(r"^```", cut, flags=re.M)) % 2 == 0  # no fence left open


def test_the_preview_summary_is_the_engines_policy_and_resource_blocks():
    coloured = "\x1b[1mPreviewing update (dev)\x1b[0m\nnoise\n" + PREVIEW_OUTPUT.split("Policies:")[1]
    assert pr_comment.preview_summary("Previewing\n" + PREVIEW_OUTPUT).startswith("Policies:\n")
    assert pr_comment.preview_summary(coloured).startswith("Resources:\n    ~ 1 to update")
    assert "\x1b" not in pr_comment.preview_summary(coloured)
    # no summary (the engine stopped early): the last lines
    assert pr_comment.preview_summary("a\nb\nerror: boom\n") == "a\nb\nerror: boom"


def test_fences_are_longer_than_any_backticks_inside():
    assert pr_comment.fenced("a ``` b") == "````text\na ``` b\n````"
    assert pr_comment.fenced("plain") == "```text\nplain\n```"


def test_next_page_reads_the_link_header():
    link = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'
    assert pr_comment.next_page(link) == "https://api.github.com/x?page=2"
    assert pr_comment.next_page('<https://api.github.com/x?page=1>; rel="prev"') is None
    assert pr_comment.next_page("") is None
