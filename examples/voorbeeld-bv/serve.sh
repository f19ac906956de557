#!/usr/bin/env bash
# The demo organisation in the browser: passwords for its team (once), then `klopt serve`.
# Usage: serve.sh [path/to/klopt]. KLOPT_DEMO_PASSWORD gives all three the same password;
# else each gets a random one, kept in $DEMO_OUT/passwords (this demo's store only).
set -euo pipefail
KLOPT="${1:-klopt}"
OUT="${DEMO_OUT:-.demo}"
PASSWORDS="$OUT/passwords"
HOST="${KLOPT_HOST:-127.0.0.1}"
PORT="${KLOPT_PORT:-8000}"
ROLES=(anna:admin bob:editor carla:approver)

if [ ! -f "$PASSWORDS" ]; then
  umask 077
  : > "$PASSWORDS"
  # The background schedule (sync, judge, alerts) acts as a user of its own, an editor.
  "$KLOPT" users add werker --display-name "Achtergrondtaken" >/dev/null
  "$KLOPT" --user anna users grant werker editor >/dev/null
  for member in "${ROLES[@]}"; do
    name="${member%%:*}"
    password="${KLOPT_DEMO_PASSWORD:-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')}"
    printf '%s\n' "$password" | "$KLOPT" --user "$name" users password --password-stdin >/dev/null
    printf '%s %s\n' "$name" "$password" >> "$PASSWORDS"
  done
fi

echo "klopt: open http://$HOST:$PORT and sign in as one of the demo team:"
while read -r name password; do
  for member in "${ROLES[@]}"; do
    [ "${member%%:*}" = "$name" ] && printf '  %-6s %-9s password: %s\n' "$name" "${member##*:}" "$password"
  done
done < "$PASSWORDS"
exec "$KLOPT" --user werker serve --host "$HOST" --port "$PORT"
