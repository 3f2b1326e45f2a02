#!/usr/bin/env bash
# Refresh the shipped Intune catalogue from Microsoft's page and write the pull request body that reviews it.
#
#   scripts/catalogue-refresh.sh PAGE.md OUT_DIR
#
# PAGE.md is the page's Markdown (MicrosoftDocs/memdocs intune/fundamentals/endpoints.md). The import rewrites
# endpoint_firewall/endpoints/catalogue/intune.yaml (with the reviewed fix-ups of endpoint_firewall/endpoints/catalogue/fixups/). When that changes
# the file, PAGE.md replaces the committed copy the catalogue is imported from
# (endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md: the tests regenerate the catalogue from it), and OUT_DIR
# gets pr-title.txt and pr-body.md: the import's summary and reports, `epfw catalogue diff`
# against BASE (default HEAD) and `epfw preview --base BASE --format markdown` of every stack in stacks/. A new
# shared-tenant wildcard (the diff's `!! NEW SHARED-TENANT WILDCARD` lines) opens the body, as a GitHub warning.
# Stdout is only `changed=true|false` (for $GITHUB_OUTPUT); everything else goes to stderr. Works offline.
set -euo pipefail
page=${1:?usage: scripts/catalogue-refresh.sh PAGE.md OUT_DIR}
out=${2:?usage: scripts/catalogue-refresh.sh PAGE.md OUT_DIR}
page=$(realpath "$page")
mkdir -p "$out"
out=$(realpath "$out")
cd "$(dirname "$0")/.."
epfw=${EPFW:-.venv/bin/epfw}
base=${BASE:-HEAD}
catalogue=endpoint_firewall/endpoints/catalogue/intune.yaml
copy=endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md

git show "$base:$catalogue" > "$out/intune.base.yaml"
"$epfw" import intune-page "$page" --out "$catalogue" --fixups endpoint_firewall/endpoints/catalogue/fixups/intune-page.yaml \
  > "$out/import-summary.txt" 2> "$out/import-reports.txt"
cat "$out/import-summary.txt" >&2
if cmp -s "$out/intune.base.yaml" "$catalogue"; then
  echo "catalogue unchanged: $catalogue is what the page gives" >&2
  echo "changed=false"
  exit 0
fi
cp "$page" "$copy"

date=$(sed -n 's/^    date: \([0-9-]*\)$/\1/p' "$catalogue" | head -n 1)
"$epfw" catalogue diff "$out/intune.base.yaml" "$catalogue" > "$out/catalogue-diff.txt"
flag=""
if grep -q '^!! NEW SHARED-TENANT WILDCARD' "$out/catalogue-diff.txt"; then
  flag=" [NEW SHARED-TENANT WILDCARD]"
fi
echo "Intune endpoints: refresh from Microsoft's page (ms.date $date)$flag" > "$out/pr-title.txt"
{
  if [ -n "$flag" ]; then
    echo "> [!WARNING]"
    echo "> **New shared-tenant wildcard**: anyone can create an instance under it. Stacks leave it out unless they"
    echo "> set \`selection.sharedTenantWildcards: allow\` (docs/shared-tenant-wildcards.md); review before merging."
    grep '^!! NEW SHARED-TENANT WILDCARD' "$out/catalogue-diff.txt" | sed 's/^!! /> - /'
    echo
  fi
  echo "## Intune endpoints: refresh from Microsoft's page (ms.date $date)"
  echo
  echo "Made by \`scripts/catalogue-refresh.sh\` (workflow \`catalogue-refresh\`): \`epfw import intune-page\` of the"
  echo "page's Markdown. Review the catalogue diff and each stack's rule diff; the importer's reports name every"
  echo "page defect and fix-up by line. Correct the page's mistakes in \`endpoint_firewall/endpoints/catalogue/fixups/intune-page.yaml\`."
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
  echo "### Catalogue diff (\`epfw catalogue diff\`, $base -> this change)"
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
