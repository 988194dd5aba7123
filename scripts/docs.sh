#!/usr/bin/env bash
# The documentation as CI checks it (scripts/test.sh runs this):
# - the DocC catalogs of Netfault and NetfaultCLI, built with warnings as errors, so a broken
#   symbol link, a missing article or a snippet path that does not resolve fails;
# - every public symbol with a doc comment of its own (DocC does not warn about one without:
#   scripts/doc-coverage.py reads the symbol graphs DocC was given);
# - the article code: it is Snippets/, which `swift build` compiles with the package (built here
#   too, so this script alone proves it).
# Archives in .build/docs/<Target>.doccarchive; their HTML in .build/docs/html/<Target>
# (static hosting: open .../documentation/netfault/index.html through a web server).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/docs
mkdir -p "$out"
start=$(date +%s)

swift build
# Fresh symbol graphs only: the coverage check reads whatever lies here.
rm -rf .build/plugins/Swift-DocC/outputs/.build/symbol-graphs
for target in Netfault NetfaultCLI; do
    swift package --disable-sandbox generate-documentation --target "$target" --warnings-as-errors \
        --output-path "$out/$target.doccarchive" \
        --transform-for-static-hosting --hosting-base-path "$target"
done

# The symbol graphs the plugin extracted for docc (public and above, as DocC shows them).
graphs=$(find .build/plugins/Swift-DocC -type d -name symbol-graphs 2>/dev/null | head -n 50)
[[ -n $graphs ]] || { echo "docs: no symbol graphs under .build/plugins/Swift-DocC" >&2; exit 1; }
status=0
for module in Netfault NetfaultCLI; do
    # shellcheck disable=SC2086  # one directory per line, none with spaces
    python3 scripts/doc-coverage.py "$module" $graphs || status=1
done

# Not empty: the landing page of each archive lists its topics.
for target in Netfault NetfaultCLI; do
    lower=$(tr '[:upper:]' '[:lower:]' <<<"$target")
    page="$out/$target.doccarchive/data/documentation/$lower.json"
    python3 - "$page" <<'PY' || status=1
import json, sys
page = json.load(open(sys.argv[1]))
topics = sum(len(section.get("identifiers", [])) for section in page.get("topicSections", []))
abstract = "".join(part.get("text", "") for part in page.get("abstract", []))
assert topics > 0 and abstract, f"{sys.argv[1]}: empty landing page ({topics} topics)"
print(f"docs: {sys.argv[1]}: {topics} topics; {abstract[:70]}…")
PY
done
echo "docs: built and checked in $(( $(date +%s) - start )) s"
exit "$status"
