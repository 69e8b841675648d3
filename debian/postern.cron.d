# Runs the postern spool every five minutes on hosts where systemd does
# not run; where it does, postern-queue.timer does this and this line
# does nothing.
*/5 * * * *	nobody	[ ! -d /run/systemd/system ] && [ -x /usr/sbin/postern ] && /usr/sbin/postern --queue-run
