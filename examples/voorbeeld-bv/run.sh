#!/usr/bin/env bash
# The whole klopt pipeline on the demo organisation. Usage: run.sh [path/to/klopt]
set -euo pipefail
KLOPT="${1:-klopt}"
HERE="$(cd "$(dirname "$0")" && pwd)"

"$KLOPT" init "Voorbeeld BV" --language nl
"$KLOPT" docs add "$HERE/missie.md" "$HERE/visie.md" "$HERE/brochure.md" "$HERE/brochure-en.md"
"$KLOPT" promises extract | sed -n 1p   # `klopt promises list` shows them with their sources
# The team reviewed the proposals; its decisions are the register file.
"$KLOPT" promises import "$HERE/promises.yaml"
"$KLOPT" promises show P1   # one promise, its Dutch and English sources
"$KLOPT" mentions import "$HERE/mentions.csv" --text-column body --time-column created_at \
  --id-column id --author-column author --url-column url --platform-column platform \
  --reach-column reach
"$KLOPT" judge
"$KLOPT" scorecard --since 2026-09-01 --until 2026-11-01
