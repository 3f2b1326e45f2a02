#!/usr/bin/env bash
# Open, or update, the one pull request of the catalogue refresh.
#
#   scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR
#
# Commits endpoint_firewall/endpoints/catalogue/intune.yaml on BRANCH (created from the current commit, force-pushed: the branch
# only ever holds the latest refresh), then edits the open pull request of BRANCH or creates one, with the title
# and body scripts/catalogue-refresh.sh wrote to OUT_DIR. Needs `gh` with GH_TOKEN.
set -euo pipefail
branch=${1:?usage: scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR}
out=${2:?usage: scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR}
cd "$(dirname "$0")/.."
title=$(cat "$out/pr-title.txt")
base=$(git rev-parse --abbrev-ref HEAD)
git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  commit --quiet -m "$title" -- endpoint_firewall/endpoints/catalogue/intune.yaml
git push --quiet --force origin "HEAD:refs/heads/$branch"
state=$(gh pr view "$branch" --json state --jq .state 2>/dev/null || true)
if [ "$state" = "OPEN" ]; then
  gh pr edit "$branch" --title "$title" --body-file "$out/pr-body.md"
else
  gh pr create --head "$branch" --base "$base" --title "$title" --body-file "$out/pr-body.md"
fi
