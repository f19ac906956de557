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
# The organisation's own posts (its accounts), so that the scorecard knows what it says.
"$KLOPT" mentions import "$HERE/eigen-berichten.csv" --own --text-column body \
  --time-column created_at --id-column id --author-column author --url-column url \
  --platform-column platform --reach-column reach | sed -n 1p
"$KLOPT" judge
"$KLOPT" scorecard --since 2026-09-01 --until 2026-11-01
# The editorial workflow: Bob writes, Carla approves (never her own draft), everything is logged.
for member in anna:admin bob:editor carla:approver; do
  "$KLOPT" users add "${member%%:*}" >/dev/null
  "$KLOPT" --user anna users grant "${member%%:*}" "${member##*:}" >/dev/null
done
"$KLOPT" --user bob drafts new --platform x --at "2026-12-01 09:00" \
  "Vandaag besteld, binnen 12 uur in huis. Gratis retour, altijd!"
"$KLOPT" --user bob drafts submit D1
"$KLOPT" --user carla drafts request-changes D1 --note "Wij beloven 24 uur en 30 dagen retour."
"$KLOPT" --user bob drafts edit D1 \
  "Vandaag besteld, binnen 24 uur in huis. En retourneren blijft 30 dagen gratis." | sed -n 1p
"$KLOPT" --user bob drafts submit D1 >/dev/null
"$KLOPT" --user carla drafts approve D1 --version 2
"$KLOPT" --user bob drafts publish D1 --url https://x.com/voorbeeldbv/status/1
"$KLOPT" --user carla drafts history D1
# The board paper for the quarter, as HTML (`--format pdf` prints the same HTML with
# WeasyPrint, which needs the Pango libraries of the operating system).
"$KLOPT" report --period 2026-Q3 --format html -o "${DEMO_OUT:-.}/rapport-2026-Q3.html"
