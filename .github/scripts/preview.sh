#!/usr/bin/env bash
# The offline plans of one stack for a pull request: the base branch's plan first, then the
# change's with --base, so that report.md leads with what the change does. Each checkout plans
# with its own program and policy pack in its own .venv (`make setup`).
#
#   preview.sh STACK BASE_CHECKOUT HEAD_CHECKOUT OUT
#
# Writes OUT/base/ (when the base plans), OUT/head/ (plan.json, report.md, diff.json,
# policy-config.json, manifests/) and OUT/result.json: the head plan's exit code (0 pass,
# 1 mandatory violation, 2 bad stack file) and its last stderr line, and how the base went.
# Exits 0 once the head plan has run, whatever its verdict: the comment step posts the report,
# then fails the job with that code. Exits non-zero only when the head cannot be set up.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: preview.sh STACK BASE_CHECKOUT HEAD_CHECKOUT OUT" >&2
  exit 2
fi
stack=$1
base=$2
head=$3
mkdir -p "$4"
out=$(cd "$4" && pwd) # absolute: each plan runs from inside its checkout

# plan CHECKOUT NAME [ARGS...]: plan the checkout into OUT/NAME; stderr also kept in OUT/NAME.stderr.
# Sets rc to the plan's exit code.
plan() {
  local checkout=$1 name=$2
  shift 2
  set +e
  (cd "$checkout" && .venv/bin/python -m llmstack plan --stack "$stack" --out "$out/$name" "$@") 2>"$out/$name.stderr"
  rc=$?
  set -e
  cat "$out/$name.stderr" >&2
}

last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 || true; }

# The base may predate the stack, the CLI or a working stack file: then the head is planned alone.
base_rc=""
base_error=""
echo "::group::base: plan of $stack"
if (cd "$base" && make setup); then
  plan "$base" base
  base_rc=$rc
  if [ "$rc" != 0 ]; then base_error=$(last_line "$out/base.stderr"); fi
else
  base_error="make setup failed in the base checkout"
fi
echo "::endgroup::"
base_args=()
if [ -f "$out/base/plan.json" ] && { [ "$base_rc" = 0 ] || [ "$base_rc" = 1 ]; }; then
  base_args=(--base "$out/base/plan.json")
fi

echo "::group::head: plan of $stack${base_args:+ against the base}"
(cd "$head" && make setup)
plan "$head" head "${base_args[@]}"
head_rc=$rc
echo "::endgroup::"

python3 - "$out/result.json" "$stack" "$head_rc" "$(last_line "$out/head.stderr")" \
  "${base_rc:--1}" "$base_error" "${#base_args[@]}" <<'PY'
import json
import sys

path, stack, head_rc, head_error, base_rc, base_error, compared = sys.argv[1:]
result = {
    "stack": stack,
    "exit_code": int(head_rc),
    "error": head_error if int(head_rc) != 0 else "",
    "base": {"exit_code": int(base_rc), "error": base_error, "compared": compared != "0"},
}
with open(path, "w", encoding="utf-8") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
PY
echo "head plan of $stack exited $head_rc (result in $out/result.json)"
