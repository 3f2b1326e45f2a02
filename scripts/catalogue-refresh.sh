#!/usr/bin/env bash
# Refresh one shipped catalogue file from Microsoft's page and write the pull request body that reviews it.
#
#   scripts/catalogue-refresh.sh PAGE.md OUT_DIR [SOURCE]
#
# SOURCE is the page import (default intune-page):
#   intune-page     MicrosoftDocs/memdocs intune/fundamentals/endpoints.md -> endpoint_firewall/endpoints/catalogue/intune.yaml
#   autopilot-page  MicrosoftDocs/memdocs autopilot/requirements.md (its Networking tab) -> .../catalogue/autopilot.yaml
# The import (`epfw import SOURCE`, with the reviewed fix-ups of endpoint_firewall/endpoints/catalogue/fixups/SOURCE.yaml)
# rewrites the catalogue file. When that changes the file, PAGE.md replaces the committed copy the catalogue is
# imported from (endpoint_firewall/endpoints/catalogue/sources/: the tests regenerate the catalogue from it), and
# OUT_DIR gets files.txt (the two changed files, for scripts/catalogue-refresh-pr.sh), pr-title.txt and pr-body.md:
# the import's summary and reports, `epfw catalogue diff` of the whole catalogue folder against BASE (default HEAD)
# and `epfw preview --base BASE --format markdown` of every stack in stacks/.
# A new shared-tenant wildcard (the diff's `!! NEW SHARED-TENANT WILDCARD` lines) opens the body, as a GitHub warning,
# and ends the title.
# Stdout is only `changed=true|false` (for $GITHUB_OUTPUT); everything else goes to stderr. Works offline.
set -euo pipefail
page=${1:?usage: scripts/catalogue-refresh.sh PAGE.md OUT_DIR [SOURCE]}
out=${2:?usage: scripts/catalogue-refresh.sh PAGE.md OUT_DIR [SOURCE]}
source=${3:-intune-page}
page=$(realpath "$page")
mkdir -p "$out"
out=$(realpath "$out")
cd "$(dirname "$0")/.."
epfw=${EPFW:-.venv/bin/epfw}
base=${BASE:-HEAD}
folder=endpoint_firewall/endpoints/catalogue
case "$source" in
  intune-page)
    catalogue=$folder/intune.yaml copy=$folder/sources/intune-endpoints.md what="Intune endpoints" ;;
  autopilot-page)
    catalogue=$folder/autopilot.yaml copy=$folder/sources/autopilot-requirements.md
    what="Autopilot networking requirements" ;;
  *)
    echo "unknown SOURCE '$source': intune-page or autopilot-page" >&2
    exit 2 ;;
esac
fixups=$folder/fixups/$source.yaml

mkdir -p "$out/base-catalogue"
git ls-tree --name-only "$base" -- "$folder/" | grep '\.yaml$' | while read -r file; do
  git show "$base:$file" > "$out/base-catalogue/${file##*/}"
done
"$epfw" import "$source" "$page" --out "$catalogue" --fixups "$fixups" \
  > "$out/import-summary.txt" 2> "$out/import-reports.txt"
cat "$out/import-summary.txt" >&2
if cmp -s "$out/base-catalogue/${catalogue##*/}" "$catalogue"; then
  echo "catalogue unchanged: $catalogue is what the page gives" >&2
  echo "changed=false"
  exit 0
fi
cp "$page" "$copy"
printf '%s\n' "$catalogue" "$copy" > "$out/files.txt"

date=$(sed -n 's/^    date: \([0-9-]*\)$/\1/p' "$catalogue" | head -n 1)
"$epfw" catalogue diff "$out/base-catalogue" "$folder" > "$out/catalogue-diff.txt"
flag=""
if grep -q '^!! NEW SHARED-TENANT WILDCARD' "$out/catalogue-diff.txt"; then
  flag=" [NEW SHARED-TENANT WILDCARD]"
fi
echo "$what: refresh from Microsoft's page (ms.date $date)$flag" > "$out/pr-title.txt"
{
  if [ -n "$flag" ]; then
    echo "> [!WARNING]"
    echo "> **New shared-tenant wildcard**: anyone can create an instance under it. Stacks leave it out unless they"
    echo "> set \`selection.sharedTenantWildcards: allow\` (docs/shared-tenant-wildcards.md); review before merging."
    grep '^!! NEW SHARED-TENANT WILDCARD' "$out/catalogue-diff.txt" | sed 's/^!! /> - /'
    echo
  fi
  echo "## $what: refresh from Microsoft's page (ms.date $date)"
  echo
  echo "Made by \`scripts/catalogue-refresh.sh\` (workflow \`catalogue-refresh\`): \`epfw import $source\` of the"
  echo "page's Markdown. Review the catalogue diff and each stack's rule diff; the importer's reports name every"
  echo "page defect and fix-up by line. Correct the page's mistakes in \`$fixups\`."
  echo
  echo '```'
  cat "$out/import-summary.txt"
  echo '```'
  echo
  echo "<details><summary>Import reports ($(wc -l < "$out/import-reports.txt"))</summary>"
  echo
  echo '```'
  sed "s|^$page:|page:|" "$out/import-reports.txt"
  echo '```'
  echo
  echo "</details>"
  echo
  echo "### Catalogue diff (\`epfw catalogue diff\` of \`$folder\`, $base -> this change)"
  echo
  echo '```'
  cat "$out/catalogue-diff.txt"
  echo '```'
  for file in stacks/Pulumi.*.yaml; do
    stack=${file#stacks/Pulumi.}
    stack=${stack%.yaml}
    echo
    "$epfw" preview --project . --stack "$stack" --base "$base" --format markdown
  done
} > "$out/pr-body.md"
echo "pull request body: $out/pr-body.md" >&2
echo "changed=true"
