"""Post or update the one sticky pull-request comment of a stack's plan, then exit with its verdict.

    pr_comment.py --repo OWNER/NAME --pr N --stack S --plan-dir DIR [--preview DIR] [--run-url URL]
                  [--artifact NAME] [--mode comment|summary] [--author LOGIN]

DIR is what .github/scripts/preview.sh wrote: result.json and head/report.md. The comment is found
by its hidden first line, `<!-- llm-serving-plan stack=S -->` (llmstack.report.comment_marker),
among the comments `--author` wrote, and edited in place; there is never a second one. --preview
names a folder holding `pulumi preview`'s output (output.txt) and exit code (exit-code): its
change summary becomes a section of the same comment (no folder: no preview ran, no section).
The body stays under GitHub's limit for a comment: the report is cut at a line, with a note,
while the marker and the preview summary stay.

Standard library only, so the comment job needs no project install. GITHUB_TOKEN authenticates;
GITHUB_API_URL (default https://api.github.com) is where the REST API is; with
GITHUB_STEP_SUMMARY set, the body is also added to the job's summary. `--mode summary` writes only
the summary: a pull request from a fork gets a read-only token that cannot comment.

Exit code: the plan's (0 pass, 1 mandatory violation, 2 bad stack file), else 1 if `pulumi
preview` failed; 3 when there is no plan result or GitHub refused the comment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MAX_BODY = 65_536
"""GitHub's limit for an issue comment's body ("body is too long (maximum is 65536 characters)")."""
MAX_PREVIEW_SUMMARY = 8_000
MAX_PREVIEW_LOG = 12_000
"""The tail of pulumi preview's output shown folded under the summary."""
NO_RESULT = 3
DEFAULT_AUTHOR = "github-actions[bot]"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_SUMMARY_HEADINGS = ("Policies:", "Policy Violations:", "Resources:")


class CommentError(Exception):
    """GitHub refused or could not be reached: one line for the log."""


def marker(stack: str) -> str:
    """The hidden first line of the stack's comment; the same as llmstack.report.comment_marker."""
    return f"<!-- llm-serving-plan stack={stack} -->"


def github_length(text: str) -> int:
    """Characters as GitHub counts them at most: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fenced(text: str, info: str = "text") -> str:
    """A code block that the text cannot close: its fence is longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


# --- the body ---------------------------------------------------------------------------------


def plan_section(stack: str, plan_dir: Path, run_url: str) -> tuple[str, int]:
    """The report (without its marker line) and the plan's exit code; an explanation when there is no report."""
    result_path = plan_dir / "result.json"
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
        code = int(result["exit_code"])
    except (OSError, ValueError, KeyError, TypeError):
        where = f" ([the run]({run_url}))" if run_url else ""
        return (
            f"## llm-serving `{stack}`: no plan\n\nThe plan job wrote no result: it failed before planning{where}.",
            NO_RESULT,
        )
    report_path = plan_dir / "head" / "report.md"
    if code in (0, 1) and report_path.is_file():
        report = report_path.read_text(encoding="utf-8")
        first, _, rest = report.partition("\n")
        body = rest if first.strip() == marker(stack) else report
        base = result.get("base") or {}
        if not base.get("compared"):
            reason = base.get("error") or "no base plan"
            note = f"_Not compared with the base branch ({reason}): this is the head plan alone._"
            body = body.rstrip("\n") + f"\n\n{note}\n"
        return body, code
    what = "bad stack file" if code == 2 else f"the plan failed (exit code {code})"
    error = result.get("error") or "no message on stderr"
    return f"## llm-serving `{stack}`: {what}, no plan\n\n{fenced(error)}\n", code


def preview_summary(output: str) -> str:
    """The engine's own summary of a preview: its Policies and Resources blocks, from the first to the end."""
    lines = _ANSI.sub("", output).replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.rstrip() in _SUMMARY_HEADINGS), None)
    chosen = lines[start:] if start is not None else lines[-40:]
    text = "\n".join(chosen).strip("\n")
    if len(text) > MAX_PREVIEW_SUMMARY:
        text = "…\n" + text[-MAX_PREVIEW_SUMMARY:]
    return text


def preview_section(preview_dir: Path) -> tuple[str, int]:
    """`pulumi preview`'s section of the comment and its exit code."""
    output_path, code_path = preview_dir / "output.txt", preview_dir / "exit-code"
    output = output_path.read_text(encoding="utf-8", errors="replace") if output_path.is_file() else ""
    try:
        code = int(code_path.read_text().strip())
    except (OSError, ValueError):
        code = 1
    outcome = "passed" if code == 0 else f"failed (exit code {code})"
    lines = [f"### `pulumi preview` with the policy pack: {outcome}", ""]
    if not output.strip():
        lines.append("No output was recorded; see the job log.")
        return "\n".join(lines) + "\n", code
    lines += [fenced(preview_summary(output)), ""]
    log = _ANSI.sub("", output).strip("\n")
    if len(log) > MAX_PREVIEW_LOG:
        log = f"… (the last {MAX_PREVIEW_LOG:,} characters)\n" + log[-MAX_PREVIEW_LOG:]
    lines += ["<details><summary>The whole preview</summary>", "", fenced(log), "", "</details>", ""]
    return "\n".join(lines), code


def _close_open_blocks(lines: list[str]) -> list[str]:
    """Close a code fence or <details> left open where the report was cut, so the note renders."""
    closing: list[str] = []
    fence: str | None = None
    details = 0
    for line in lines:
        stripped = line.strip()
        match = re.match(r"^(`{3,}|~{3,})", stripped)
        if match:
            if fence is None:
                fence = match.group(1)
            elif stripped.startswith(fence) and stripped.rstrip("`~") == "":
                fence = None
            continue
        if fence is None:
            details += stripped.count("<details") - stripped.count("</details>")
    if fence is not None:
        closing.append(fence)
    closing += ["", "</details>"] * max(details, 0)
    return closing


def truncate(report: str, budget: int, note: str) -> str:
    """The report cut at a line so that it and the note fit in `budget` characters."""
    if github_length(report) <= budget:
        return report
    kept: list[str] = []
    used = github_length(note) + 200  # room for the blocks closed after the cut
    for line in report.split("\n"):
        size = github_length(line) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "\n".join([*kept, *_close_open_blocks(kept), "", note]) + "\n"


def compose(stack: str, report: str, preview: str = "", run_url: str = "", artifact: str = "") -> str:
    """marker, the report (cut if need be), then the preview section; within MAX_BODY."""
    head = marker(stack) + "\n"
    tail = ("\n" + preview) if preview else ""
    where = f"the `{artifact}` artifact of [the run]({run_url})" if artifact and run_url else "the run's artifacts"
    note = f"_The report is cut here to fit GitHub's comment limit; the whole report.md is in {where}._"
    budget = MAX_BODY - github_length(head) - github_length(tail)
    return head + truncate(report, budget, note) + tail


# --- GitHub -----------------------------------------------------------------------------------


class GitHub:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    def request(self, method: str, url: str, payload: dict[str, Any] | None = None) -> tuple[Any, str]:
        """The decoded JSON answer and its Link header."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", "llm-serving-pr-comment")
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null"), response.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("message", detail)
            raise CommentError(f"{method} {url}: HTTP {exc.code}: {' '.join(str(detail).split())[:300]}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise CommentError(f"{method} {url}: {exc}") from None

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """Every comment of the pull request, following the Link header's pages."""
        url: str | None = f"{self.api_url}/repos/{repo}/issues/{number}/comments?per_page=100"
        found: list[dict[str, Any]] = []
        while url:
            page, link = self.request("GET", url)
            found += page
            url = next_page(link)
        return found

    def upsert(self, repo: str, number: int, body: str, author: str) -> tuple[str, int]:
        """Edit the comment that starts with the body's marker line, or create it: ('updated'|'created', id)."""
        first_line = body.split("\n", 1)[0]
        for comment in self.comments(repo, number):
            mine = (comment.get("user") or {}).get("login") == author
            if mine and str(comment.get("body", "")).split("\n", 1)[0].strip() == first_line:
                self.request("PATCH", f"{self.api_url}/repos/{repo}/issues/comments/{comment['id']}", {"body": body})
                return "updated", int(comment["id"])
        created, _ = self.request("POST", f"{self.api_url}/repos/{repo}/issues/{number}/comments", {"body": body})
        return "created", int(created["id"])


def next_page(link: str) -> str | None:
    """The rel="next" URL of a GitHub Link header."""
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None


# --- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pr_comment.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--pr", required=True, type=int, help="pull request number")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--plan-dir", required=True, type=Path, help="preview.sh's output folder")
    parser.add_argument("--preview", type=Path, help="folder with pulumi preview's output.txt and exit-code")
    parser.add_argument("--run-url", default="", help="the workflow run, for links in the comment")
    parser.add_argument("--artifact", default="", help="the artifact holding the whole report")
    parser.add_argument(
        "--mode", choices=("comment", "summary"), default="comment", help="summary: the job summary only, no comment"
    )
    parser.add_argument("--author", default=DEFAULT_AUTHOR, help="the login whose comment is updated")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo):
        print(f"--repo {args.repo!r}: must be OWNER/NAME", file=sys.stderr)
        return 2
    if not re.fullmatch(r"[\w.-]+", args.stack):
        print(f"--stack {args.stack!r}: must be a stack name (letters, digits, '.', '_', '-')", file=sys.stderr)
        return 2
    report, code = plan_section(args.stack, args.plan_dir, args.run_url)
    ran = args.preview is not None and args.preview.is_dir()
    preview, preview_code = preview_section(args.preview) if ran else ("", 0)
    body = compose(args.stack, report, preview, args.run_url, args.artifact)

    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as f:
            f.write(body + "\n")
    if args.mode == "summary":
        print(f"{args.stack}: comment not posted (--mode summary); the report is in the job summary")
    else:
        token = os.environ.get("GITHUB_TOKEN", "")
        if not token:
            print("GITHUB_TOKEN: not set; it authenticates the comment", file=sys.stderr)
            return NO_RESULT
        github = GitHub(os.environ.get("GITHUB_API_URL") or "https://api.github.com", token)
        try:
            action, comment_id = github.upsert(args.repo, args.pr, body, args.author)
        except CommentError as exc:
            print(f"pr_comment: {exc}", file=sys.stderr)
            return NO_RESULT
        print(f"{args.stack}: {action} comment {comment_id} on #{args.pr} ({github_length(body):,} characters)")
    if code != 0:
        return code
    return 1 if preview_code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
