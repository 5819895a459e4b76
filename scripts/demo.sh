#!/usr/bin/env bash
# Demo: a throwaway repository where an issue is fixed on main but still open on release-1.0.
# Usage: scripts/demo.sh [DIR]   (default: a new temporary directory)
set -euo pipefail
dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/git-sit-demo.XXXXXX")}
mkdir -p "$dir" && cd "$dir"
export GIT_CONFIG_NOSYSTEM=1
git init -q -b main
git config user.name "Demo User"
git config user.email "demo@example.com"
echo "demo project" > README && git add README && git commit -qm "Initial commit"

git sit init > /dev/null
crash=$(git sit issue new -s "Crash on empty input" -d "Running the tool with no input crashes.")
docs=$(git sit issue new -s "Document the config file" -d "Nobody knows what goes in the config file.")
git sit issue label "$docs" +docs > /dev/null
git commit -qm "File two issues"
git branch release-1.0

git sit issue close "$crash" -m "Fixed by checking for empty input." > /dev/null
git commit -qm "Fix crash on empty input"

echo "== demo repository: $dir"
echo "== open issues on main (work tree):"
git sit issue list
echo "== open issues on release-1.0 (read from git objects, no checkout):"
git sit issue list --rev release-1.0
echo "== the crash issue on every branch:"
git sit status "$crash"
echo "== the same data through SIT's plumbing (JMESPath over reduced items):"
git sit items -q "join(' | ', [id, state, summary])"
