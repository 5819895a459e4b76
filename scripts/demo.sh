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
new_issue() {  # SUMMARY DETAILS → prints the item ID
  local item; item=$(git sit item)
  printf '%s\n' "$1" > text; git sit record -t SummaryChanged "$item" text > /dev/null
  printf '%s\n' "$2" > text; git sit record -t DetailsChanged "$item" text > /dev/null
  rm text; echo "$item"
}
crash=$(new_issue "Crash on empty input" "Running the tool with no input crashes.")
docs=$(new_issue "Document the config file" "Nobody knows what goes in the config file.")
git commit -qm "File two issues"
git branch release-1.0

printf 'Fixed by checking for empty input.\n' > text
git sit record -t Commented,Closed "$crash" text > /dev/null && rm text
git commit -qm "Fix crash on empty input"

echo "== demo repository: $dir"
echo "== open issues on main (work tree):"
git sit items -f "state == 'open'" -q "join(' | ', [id, summary])"
echo "== open issues on release-1.0 (read from git objects, no checkout):"
git sit items --rev release-1.0 -f "state == 'open'" -q "join(' | ', [id, summary])"
echo "== the crash issue on main:"
git sit reduce "$crash" -q "{summary: summary, state: state, comments: comments[].text}"
echo "== the crash issue on every branch and tag:"
git sit status "$crash"
