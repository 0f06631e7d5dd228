#!/usr/bin/env bash
# envsnap on a real Mac, as a user runs it: doctor, lock and verify --strict on a copy of
# examples/zlib with the machine's own toolchain, then another Xcode selected, which verify must
# report (exit 1, a developer dir or SDK finding). What the machine is like is recorded with
# `envsnap record`, once per Xcode, into OUT for the job's artifact (docs/recording-format.md
# says how a recording becomes a test fixture).
#
#   .github/scripts/macos-check.sh WORK OUT
#
# WORK is scratch space, OUT receives the recordings and each command's output. Off macOS (the
# project's tests run it on Linux) the steps that are not macOS-specific run, and the Xcode
# switch is skipped, saying so.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 WORK OUT" >&2
    exit 2
fi
work=$1
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=$work/zlib

mkdir -p "$work" "$out"
rm -rf "$module"
cp -R "$here/examples/zlib" "$module"
rm -f "$module/envsnap.lock" # this machine's lock, from scratch

# Run envsnap, keep what it prints in OUT/NAME.out and OUT/NAME.err (and show both), and fail
# on an exit code other than EXPECTED.
step() {
    local name=$1 expected=$2
    shift 2
    local code=0
    echo "::group::envsnap $*"
    envsnap "$@" >"$out/$name.out" 2>"$out/$name.err" || code=$?
    cat "$out/$name.out" "$out/$name.err"
    echo "::endgroup::"
    if [[ $code -ne $expected ]]; then
        echo "::error title=envsnap $1::exit $code, expected $expected (see $name.out, $name.err)"
        exit 1
    fi
}

step doctor 0 doctor -C "$module"
step lock 0 lock -C "$module"
step verify 0 verify --strict -C "$module"
step record 0 record "$out/recording" -C "$module"

if [[ $(uname -s) != Darwin ]]; then
    echo "not macOS: the Xcode switch is skipped"
    exit 0
fi

# Another Xcode of the image: verify must see the developer dir (or its SDK) change.
current=$(xcode-select -p)
other=
for app in /Applications/Xcode_*.app; do
    candidate=$app/Contents/Developer
    if [[ -d $candidate && $(cd "$candidate" && pwd -P) != $(cd "$current" && pwd -P) ]]; then
        other=$candidate
        break
    fi
done
if [[ -z $other ]]; then
    echo "::error title=macos-check::no Xcode but $current on this image (ls /Applications)"
    exit 1
fi
trap 'sudo xcode-select -s "$current"' EXIT
echo "selecting $other (was $current)"
sudo xcode-select -s "$other"

step verify-other-xcode 1 verify --json -C "$module"
python3 - "$out/verify-other-xcode.out" <<'PY'
import json
import sys

document = json.load(open(sys.argv[1]))
ids = [finding["id"] for finding in document["findings"]]
if not any(i.startswith(("apple.developer_dir", "apple.sdk", "apple.xcode")) for i in ids):
    sys.exit(f"verify did not report the Xcode switch; its findings: {ids}")
print("verify reports the Xcode switch:", ", ".join(ids))
PY
step record-other-xcode 0 record "$out/recording-other-xcode" -C "$module"
