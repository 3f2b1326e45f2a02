#!/usr/bin/env bash
# Open, or update, the one pull request of the catalogue refresh.
#
#   scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR
#
# Commits the files scripts/catalogue-refresh.sh changed and listed in OUT_DIR/files.txt (a catalogue file and the
# page it is imported from, e.g. endpoint_firewall/endpoints/catalogue/intune.yaml and sources/intune-endpoints.md)
# on BRANCH (created from the current commit, force-pushed: the branch only ever holds the latest refresh), then
# edits the open pull request of BRANCH or creates one, with the title and body that script wrote to OUT_DIR.
# Needs `gh` with GH_TOKEN. With CHECKS_BY_HAND=true (the workflow had only github.token, whose pull requests and
# pushes start no workflow) the body says so.
set -euo pipefail
branch=${1:?usage: scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR}
out=${2:?usage: scripts/catalogue-refresh-pr.sh BRANCH OUT_DIR}
cd "$(dirname "$0")/.."
title=$(cat "$out/pr-title.txt")
mapfile -t files < "$out/files.txt"
base=$(git rev-parse --abbrev-ref HEAD)
git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  commit --quiet -m "$title" -- "${files[@]}"
if [ "${CHECKS_BY_HAND:-}" = "true" ] && ! grep -q CATALOGUE_REFRESH_TOKEN "$out/pr-body.md"; then
  {
    echo
    echo "> [!NOTE]"
    echo "> Opened with the workflow's \`github.token\`: GitHub starts no workflow for its pull requests and pushes, so"
    echo "> the checks of this pull request must be started by hand (close and reopen it, or push a commit). Set the"
    echo "> repository secret \`CATALOGUE_REFRESH_TOKEN\` (a token with contents and pull-requests write) to have them run."
  } >> "$out/pr-body.md"
fi
git push --quiet --force origin "HEAD:refs/heads/$branch"
state=$(gh pr view "$branch" --json state --jq .state 2>/dev/null || true)
if [ "$state" = "OPEN" ]; then
  gh pr edit "$branch" --title "$title" --body-file "$out/pr-body.md"
else
  gh pr create --head "$branch" --base "$base" --title "$title" --body-file "$out/pr-body.md"
fi
