#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# make demo: start a throwaway SMTP listener on loopback, send a sample
# message through postern with a demo ini, and show what arrived.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d /tmp/postern-demo.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT INT TERM

/usr/bin/python3 "$top/tests/integration/lib/fakesmtp.py" --port 0 \
    --maildir "$d/mail" >"$d/listener.out" 2>"$d/listener.err" &
pid=$!
i=0
while ! grep -q '^listening on' "$d/listener.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "demo: the listener did not start:" >&2
		cat "$d/listener.err" >&2
		exit 1
	fi
	sleep 0.1
done
port=$(sed -n 's/^listening on //p' "$d/listener.out")

cat >"$d/postern.ini" <<EOT
[delivery]
mode = local

[local]
host = 127.0.0.1
port = $port

[sender]
domain = demo.example

[aliases]
root = ops@demo.example

[log]
syslog = no
file = $d/postern.log
EOT
chmod 600 "$d/postern.ini"

echo "== a throwaway SMTP listener is on 127.0.0.1:$port"
echo "== the demo ini ($d/postern.ini):"
sed 's/^/   /' "$d/postern.ini"
echo "== what cron would do: sendmail -FCronDaemon -i -B8BITMIME -oem root"
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> run-parts /etc/cron.daily\n\nThis is the output of a cron job.\n.A line starting with a dot survives.\n' |
    "$top/postern" -C "$d/postern.ini" -v -FCronDaemon -i -B8BITMIME -oem root
rc=$?
echo "== postern exited $rc"
sleep 0.3
echo "== the listener received:"
for f in "$d"/mail/*.eml; do
	[ -e "$f" ] || { echo "   (nothing)"; exit 1; }
	sed 's/^/   | /' "$f"
done
echo "== the log line:"
sed 's/^/   /' "$d/postern.log"
exit $rc
