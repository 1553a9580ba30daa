#!/usr/bin/env bash
# The wheel works on its own: build it, install it (not editable) into a fresh virtual environment outside the
# repository, and analyse a sample there through the CLI and through the Python API. Called by `make test`.
#
# Dependencies come from PyPI through pip's cache (the first run downloads them once). PYTHON picks the
# interpreter (default: the one behind the dev venv); KEEP=1 keeps the temporary directory for a look.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEV_PY="$REPO/.venv/bin/python"
PYTHON="${PYTHON:-$("$DEV_PY" -c 'import sys; print(sys._base_executable)')}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hingecheck-wheel.XXXXXX")"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
SAMPLE="$REPO/samples/hinge_lowback.mp4"
start=$SECONDS
say() { printf 'check_wheel: %s\n' "$*"; }
fail() { printf 'check_wheel: FAILED: %s\n' "$*" >&2; exit 1; }

# 1. Build from a copy of the files git knows (tracked or new, not ignored): no build/ left in the repo and no
#    stale build/lib files in the wheel.
mkdir -p "$WORK/src" "$WORK/dist" "$WORK/run"
(cd "$REPO" && git ls-files -z -co --exclude-standard -- pyproject.toml README.md LICENSE hingecheck) \
    | (cd "$REPO" && tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
"$DEV_PY" -m pip wheel --quiet --no-deps -w "$WORK/dist" "$WORK/src" >/dev/null
WHEEL="$(ls "$WORK"/dist/hingecheck-*.whl)"
say "built $(basename "$WHEEL") ($(( SECONDS - start )) s)"

# 2. A fresh venv (no pip of its own: the dev venv's pip installs into it), the wheel and its dependencies.
"$PYTHON" -m venv --without-pip "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$DEV_PY" -m pip --python "$VPY" install --quiet --no-compile --disable-pip-version-check "$WHEEL" 2>"$WORK/pip.err" \
    || { cat "$WORK/pip.err" >&2; fail "installing the wheel"; }
say "installed into a fresh venv ($(( SECONDS - start )) s)"

# 3. Outside the repository, with nothing of it on the path.
cd "$WORK/run"
unset PYTHONPATH
where="$("$VPY" -c 'import hingecheck; print(hingecheck.__file__)')"
case "$where" in "$WORK/venv/"*) ;; *) fail "hingecheck was imported from $where, not from the installed wheel";; esac
[ -f "$(dirname "$where")/py.typed" ] || fail "the wheel has no py.typed (type checkers would ignore its annotations)"

"$WORK/venv/bin/hingecheck" models >"$WORK/models.txt" 2>&1 || { cat "$WORK/models.txt" >&2; fail "hingecheck models"; }

"$WORK/venv/bin/hingecheck" analyze "$SAMPLE" -o "$WORK/out" --no-video >"$WORK/analyze.out" 2>"$WORK/analyze.err" \
    || { cat "$WORK/analyze.err" >&2; fail "hingecheck analyze"; }
"$VPY" - "$WORK/out/summary.json" <<'PY' || fail "summary.json of the CLI run"
import json, sys
summary = json.load(open(sys.argv[1]))
assert summary["status"] == "ok", summary["status"]
PY
if grep -Eq '^(INFO:|WARNING:|W0000|I0000|E0000)' "$WORK/analyze.err"; then
    cat "$WORK/analyze.err" >&2; fail "native MediaPipe log lines reached the terminal"
fi

codes="$("$VPY" -c "import hingecheck; r = hingecheck.analyze('$SAMPLE'); print([f.code for x in r.reps for f in x.faults])" 2>"$WORK/api.err")" \
    || { cat "$WORK/api.err" >&2; fail "hingecheck.analyze from the API"; }
case "$codes" in
    *extension_from_low_back*spinal_flexion_takeover*|*spinal_flexion_takeover*extension_from_low_back*) ;;
    *) fail "the API found $codes on hinge_lowback.mp4 (expected low-back extension and a flexion takeover)";;
esac
say "CLI and API analyse the sample from the installed wheel: $codes"
say "ok in $(( SECONDS - start )) s"
