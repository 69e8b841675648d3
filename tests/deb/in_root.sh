#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/deb/in_root.sh: run by tests/deb/check.sh inside a throwaway
# Debian 12 root, with a clean clone of postern in /build/postern.  Each
# check prints "ok - ..." or "not ok - ..."; /build/verdict gets "N
# passed, N failed".

set -u
export DEBIAN_FRONTEND=noninteractive
cd /build/postern || exit 1

passed=0
failed=0
ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}
nok() {
	echo "not ok - $1"
	failed=$((failed + 1))
}
# check NAME CMD...: ok when CMD succeeds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
verdict() {
	echo "$passed passed, $failed failed" >/build/verdict
	echo "$passed passed, $failed failed"
	exit "$([ "$failed" -eq 0 ] && echo 0 || echo 1)"
}
# Stop here: what follows needs what just failed.
fatal() {
	nok "$1"
	[ -n "${2:-}" ] && tail -n 30 "$2"
	verdict
}
log=/build/log
apt() {
	apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1
}
status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | cut -c1-2
}
owner_of() {
	dpkg-query -S "$1" 2>/dev/null | cut -d: -f1
}
ini_get() {
	/usr/libexec/postern/ini-edit get /etc/postern.ini "$1" "$2"
}

# No daemon starts in this root (no Postfix on this machine's port 25).
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

echo "=== Postfix, the MTA postern replaces"
apt update || fatal "apt-get update" "$log"
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
# apt-utils: apt runs the config script before unpacking too, as on most
# machines (debian/config must survive running twice).
apt install --no-install-recommends postfix make apt-utils ||
	fatal "apt-get install postfix" "$log"
check "Postfix installed, /usr/sbin/sendmail is Postfix's" \
    [ "$(status postfix)" = ii -a "$(owner_of /usr/sbin/sendmail)" = postfix ]

echo "=== make deb in a clean clone"
if ! make deb >/build/make-deb.log 2>&1; then
	fatal "make deb" /build/make-deb.log
fi
version=$(sed -n 's/^VERSION = //p' config.mk)
arch=$(dpkg --print-architecture)
deb=dist/postern_${version}_$arch.deb
check "make deb built $deb (config.mk's VERSION)" [ -f "$deb" ]
check "the package's version is config.mk's VERSION" \
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ]
check "make deb installed its build dependencies (debhelper)" \
    [ "$(status debhelper)" = ii ]

echo "=== apt-get install ./$deb, preseeded"
port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
debconf-set-selections <<EOT
postern postern/delivery select remote
postern postern/server string 127.0.0.1
postern postern/port string $port
postern postern/auth select basic
postern postern/user string cms@example.test
postern postern/password password s3cret pass
postern postern/tls select off
postern postern/send_as_user boolean false
postern postern/manager_address string "Example CMS" <cms@example.test>
EOT
apt install "./$deb" || fatal "apt-get install ./$deb" "$log"
check "postern installed" [ "$(status postern)" = ii ]
check "Postfix was replaced (removed)" [ "$(status postfix)" != ii ]
for f in /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq \
    /usr/bin/newaliases; do
	check "$f is postern" [ "$(readlink -f $f)" = /usr/sbin/postern -a \
	    "$(owner_of $f)" = postern ]
done
for m in man8/sendmail.8.gz man1/mailq.1.gz man1/newaliases.1.gz; do
	check "$m is postern's page" \
	    [ "$(readlink -f /usr/share/man/$m)" = \
	    /usr/share/man/man8/postern.8.gz ]
done
check "the postern group exists" sh -c 'getent group postern >/dev/null'
check "/usr/sbin/postern is 2755 root:postern" \
    [ "$(stat -c '%a %U:%G' /usr/sbin/postern)" = "2755 root:postern" ]
for d in /var/spool/postern /var/spool/postern/queue; do
	check "$d is 2770 root:postern" \
	    [ "$(stat -c '%a %U:%G' $d)" = "2770 root:postern" ]
done
check "postern-queue.timer enabled" \
    [ -L /etc/systemd/system/timers.target.wants/postern-queue.timer ]
check "postern.socket and postern@.service shipped, disabled" \
    [ -e /lib/systemd/system/postern.socket -a \
    -e /lib/systemd/system/postern@.service -a \
    ! -e /etc/systemd/system/sockets.target.wants/postern.socket ]
check "postern-bd.service shipped, disabled" \
    [ -e /lib/systemd/system/postern-bd.service -a \
    ! -e /etc/systemd/system/multi-user.target.wants/postern-bd.service ]
check "the units run the installed binary" \
    grep -q '^ExecStart=/usr/sbin/postern -bs' \
    /lib/systemd/system/postern@.service
check "the user postern the units run as exists" \
    sh -c 'getent passwd postern >/dev/null'
check "the cron.d line runs the queue only without systemd" \
    grep -q '! -d /run/systemd/system.*postern --queue-run' /etc/cron.d/postern

echo "=== /etc/postern.ini from the answers"
check "the ini is 0640 root:postern" \
    [ "$(stat -c '%a %U:%G' /etc/postern.ini)" = "640 root:postern" ]
for kv in "delivery mode remote" "remote host 127.0.0.1" \
    "remote port $port" "remote auth basic" "remote user cms@example.test" \
    "remote password s3cret pass" "remote tls off" \
    "sender send_as_user no" \
    'sender address "Example CMS" <cms@example.test>'; do
	set -- $kv
	s=$1 k=$2
	shift 2
	check "ini: [$s] $k = $*" [ "$(ini_get "$s" "$k")" = "$*" ]
done
check "ini: the rest is the annotated example" \
    grep -q '^; Every key is shown with its default' /etc/postern.ini

echo "=== hand edits survive dpkg-reconfigure and a reinstall"
# One key the questions own, two they do not.
sed -i -e 's/^address = .*/address = "Hand Edited" <hand@example.test>/' \
    -e 's/^allow_plaintext_auth = no/allow_plaintext_auth = yes/' \
    -e 's/^retry = 5m/retry = 1s/' -e 's/^domain =$/domain = example.test/' \
    /etc/postern.ini
cp -p /etc/postern.ini /build/edited.ini
edits_kept() {
	[ "$(ini_get sender address)" = '"Hand Edited" <hand@example.test>' ] &&
	    [ "$(ini_get remote allow_plaintext_auth)" = yes ] &&
	    [ "$(ini_get queue retry)" = 1s ] &&
	    [ "$(ini_get sender domain)" = example.test ]
}
check "postern --check accepts the edited ini" sh -c 'postern --check >/dev/null'
dpkg-reconfigure -f noninteractive postern >>"$log" 2>&1 ||
	nok "dpkg-reconfigure -f noninteractive postern"
check "dpkg-reconfigure: the hand edits are kept" edits_kept
check "dpkg-reconfigure: the ini is unchanged" cmp -s /etc/postern.ini \
    /build/edited.ini
check "dpkg-reconfigure: debconf took the hand-edited answer" \
    sh -c 'debconf-show postern | grep -q "manager_address: \"Hand Edited\""'
apt install --reinstall "./$deb" || nok "apt-get install --reinstall"
check "reinstall: the hand edits are kept" edits_kept
check "reinstall: the ini is unchanged" cmp -s /etc/postern.ini \
    /build/edited.ini
check "reinstall: the ini is still 0640 root:postern" \
    [ "$(stat -c '%a %U:%G' /etc/postern.ini)" = "640 root:postern" ]
# An answer changed in dpkg-reconfigure changes its key and no other.
echo "postern postern/user string other@example.test" |
    debconf-set-selections
dpkg-reconfigure -f noninteractive postern >>"$log" 2>&1 ||
	nok "dpkg-reconfigure with a changed answer"
check "a changed answer changes its key" \
    [ "$(ini_get remote user)" = other@example.test ]
diff /build/edited.ini /etc/postern.ini >/build/diff
check "a changed answer changes no other line" \
    [ "$(grep -c '^[<>]' /build/diff)" = 2 ]
echo "postern postern/user string cms@example.test" |
    debconf-set-selections
dpkg-reconfigure -f noninteractive postern >>"$log" 2>&1
check "and back" cmp -s /etc/postern.ini /build/edited.ini
# apt runs the config script twice (before unpacking, then from the
# postinst): the second run must not take the old value back from the ini.
echo "postern postern/tls select implicit" | debconf-set-selections
apt install --reinstall "./$deb" || nok "apt-get install --reinstall (2)"
check "an answer changed before a reinstall changes its key" \
    [ "$(ini_get remote tls)" = implicit ]
echo "postern postern/tls select off" | debconf-set-selections
dpkg-reconfigure -f noninteractive postern >>"$log" 2>&1
check "and back again" cmp -s /etc/postern.ini /build/edited.ini

echo "=== mail as root and as nobody to a server on loopback"
# Each start of the sink writes to a new directory (it numbers from 1).
runs=0
sink() {
	runs=$((runs + 1))
	mail=/build/mail$runs
	python3 /build/postern/tests/deb/sink.py "$port" "$mail" \
	    >/build/sink.out 2>&1 &
	sinkpid=$!
	for _ in $(seq 50); do
		grep -q listening /build/sink.out && return 0
		sleep 0.1
	done
	return 1
}
stop_sink() {
	kill "$sinkpid" 2>/dev/null
	wait "$sinkpid" 2>/dev/null
	sinkpid=
}
sinkpid=
trap '[ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null' EXIT
arrived() { # $1 messages holding $2
	for _ in $(seq 100); do
		[ "$(grep -l "$2" /build/mail*/*.eml 2>/dev/null | wc -l)" -ge "$1" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
sink || fatal "the SMTP sink started" /build/sink.out
printf 'Subject: from root\n\nhello from root\n' |
    /usr/sbin/sendmail -i root@example.test
check "sendmail as root: exit 0" [ $? = 0 ]
check "the message from root arrived" arrived 1 'hello from root'
printf 'Subject: from nobody\n\nhello from nobody\n' |
    as_nobody /usr/lib/sendmail -i root@example.test
check "/usr/lib/sendmail as nobody: exit 0" [ $? = 0 ]
check "the message from nobody arrived" arrived 1 'hello from nobody'
plain=$(printf '\0cms@example.test\0s3cret pass' | base64)
check "the login used the stored user and password" \
    grep -qx "$plain" "$mail/auth.log"
check "From is the (hand-edited) User Manager Address" sh -c \
    'grep -l "hello from root" /build/mail1/*.eml | xargs grep -q \
    "^From: \"*Hand Edited\"* <hand@example.test>"'
check "nobody cannot read the ini" as_nobody sh -c \
    '! cat /etc/postern.ini 2>/dev/null'

echo "=== the cron.d line delivers the spool where systemd is not running"
stop_sink
printf 'Subject: spooled\n\nspooled while down\n' |
    as_nobody /usr/sbin/sendmail -i root@example.test
check "sendmail with the server down: exit 0 (spooled)" [ $? = 0 ]
check "mailq shows it" sh -c 'mailq | grep -q root@example.test'
sink || fatal "the SMTP sink started again" /build/sink.out
sleep 2 # [queue] retry = 1s, written by hand above
cronline=$(grep -v '^#' /etc/cron.d/postern | grep queue-run)
cmd=$(echo "$cronline" | cut -f3-)
mkdir -p /run/systemd/system
as_nobody sh -c "$cmd"
check "with /run/systemd/system the cron line leaves the spool alone" \
    sh -c '! grep -l "spooled while down" /build/mail*/*.eml >/dev/null'
rmdir /run/systemd/system
as_nobody sh -c "$cmd"
check "without it the cron line delivers the spool" \
    arrived 1 'spooled while down'
stop_sink
printf 'Subject: left\n\nleft in the spool\n' |
    /usr/sbin/sendmail -i root@example.test
queued=$(find /var/spool/postern/queue -type f | wc -l)
check "one message left in the spool" [ "$queued" -ge 1 ]

echo "=== remove keeps the ini and the spool; purge removes them"
apt remove postern || nok "apt-get remove postern"
check "remove: postern is gone" [ ! -e /usr/sbin/postern -a \
    ! -e /usr/sbin/sendmail ]
check "remove: the ini is kept" cmp -s /etc/postern.ini /build/edited.ini
check "remove: the spool is kept, with the waiting message" \
    [ "$(find /var/spool/postern/queue -type f | wc -l)" = "$queued" ]
apt purge postern || nok "apt-get purge postern"
check "purge: the ini is gone" [ ! -e /etc/postern.ini ]
check "purge: the spool is gone" [ ! -e /var/spool/postern ]
check "purge: the cron.d file is gone" [ ! -e /etc/cron.d/postern ]
check "purge: debconf forgot the answers" \
    [ -z "$(debconf-show postern 2>/dev/null)" ]

echo "=== Postfix can be installed again"
apt install --no-install-recommends postfix ||
	nok "apt-get install postfix after postern"
check "Postfix installed again, /usr/sbin/sendmail is Postfix's" \
    [ "$(status postfix)" = ii -a "$(owner_of /usr/sbin/sendmail)" = postfix ]

echo "=== lintian"
apt install --no-install-recommends lintian || nok "apt-get install lintian"
lintian "$deb" >/build/lintian.out 2>&1
sed 's/^/lintian: /' /build/lintian.out
check "lintian: no error" sh -c '! grep -q "^E:" /build/lintian.out'
check "lintian: no warning" sh -c '! grep -q "^W:" /build/lintian.out'

verdict
