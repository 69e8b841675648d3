# SPDX-License-Identifier: ISC (see LICENSE)
"""make install into a DESTDIR (issue 9, item 6): links another mailer
owns are left alone and named in the last lines with the command that
takes them; FORCE_LINKS=1 takes them and keeps each replaced file as
NAME.postern-backup (never over an older backup); the copied cron line
and unit name the PREFIX used."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import check, check_eq, done, tmpdir, postern_path

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def tree():
    """A copy of what make install reads, with the binary under test, so
    that nothing is built or written in the source tree."""
    src = tmpdir()
    for f in ("Makefile", "config.mk"):
        shutil.copy(os.path.join(TOP, f), src)
    for d in ("contrib", "man"):
        shutil.copytree(os.path.join(TOP, d), os.path.join(src, d))
    shutil.copy(postern_path(), os.path.join(src, "postern"))
    return src


def install(src, dest, *args):
    # -o postern: the copied binary is the one to install, not rebuilt.
    # As a person types it: not as a sub-make of make check, whose
    # "Leaving directory" lines would come after the report.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    p = subprocess.run(["make", "-o", "postern", "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"] + list(args),
                       cwd=src, capture_output=True, timeout=120, env=env)
    lines = [x for x in p.stdout.decode(errors="replace").splitlines()
             if x.strip()]
    return p, lines


def main():
    src = tree()
    dest = tmpdir()
    sbin = os.path.join(dest, "usr", "sbin")
    lib = os.path.join(dest, "usr", "lib")
    os.makedirs(sbin)
    os.makedirs(lib)
    other = os.path.join(sbin, "sendmail")
    with open(other, "w") as f:
        f.write("another mailer\n")
    os.symlink("../sbin/sendmail", os.path.join(lib, "sendmail"))

    p, lines = install(src, dest)
    check("install beside another mailer: exit 0", p.returncode == 0, p)
    tail = "\n".join(lines[-2:])
    check("the last lines name the links left to the other mailer",
          "still run another mailer" in tail and other in tail and
          os.path.join(lib, "sendmail") in tail and
          os.path.join(dest, "usr/bin/mailq") not in tail, lines[-3:])
    check("the last line gives the command that takes them",
          lines and lines[-1].endswith("make install PREFIX=/usr DESTDIR=%s "
                                       "FORCE_LINKS=1" % dest), lines[-3:])
    with open(other) as f:
        check_eq("the other mailer's sendmail is untouched", f.read(),
                 "another mailer\n")
    check_eq("mailq (free) is postern's",
             os.readlink(os.path.join(dest, "usr/bin/mailq")),
             "/usr/sbin/postern")
    with open(os.path.join(dest, "usr/share/doc/postern/postern.cron")) as f:
        cron = f.read()
    check("the cron example names PREFIX=/usr, nothing of /usr/local",
          "/usr/sbin/postern --queue-run" in cron and
          "cp /usr/share/doc/postern/postern.cron" in cron and
          "/usr/local" not in cron, cron)
    with open(os.path.join(dest, "lib/systemd/system/"
                           "postern-queue.service")) as f:
        unit = f.read()
    check("the unit names /usr/sbin/postern", "/usr/sbin/postern" in unit
          and "/usr/local" not in unit, unit)

    p, lines = install(src, dest, "FORCE_LINKS=1")
    check("FORCE_LINKS=1: exit 0", p.returncode == 0, p)
    check_eq("FORCE_LINKS=1: sendmail is postern's", os.readlink(other),
             "/usr/sbin/postern")
    with open(other + ".postern-backup") as f:
        check_eq("FORCE_LINKS=1: the replaced file kept as "
                 "sendmail.postern-backup", f.read(), "another mailer\n")
    check_eq("FORCE_LINKS=1: the replaced link kept too",
             os.readlink(os.path.join(lib, "sendmail.postern-backup")),
             "../sbin/sendmail")
    check("FORCE_LINKS=1: each replacement said, and the last line says "
          "all is postern's",
          sum("is now postern's; the old one is" in x for x in lines) == 2
          and lines and "run postern" in lines[-1], lines)

    # The other mailer comes back (a package upgrade): the older backup
    # is never overwritten.
    os.unlink(other)
    with open(other, "w") as f:
        f.write("upgraded mailer\n")
    p, lines = install(src, dest, "FORCE_LINKS=1")
    with open(other + ".postern-backup") as f:
        back = f.read()
    with open(other) as f:
        now = f.read()
    check("FORCE_LINKS=1 with a backup already there: both files kept",
          back == "another mailer\n" and now == "upgraded mailer\n" and
          any("already exists" in x for x in lines), (back, now, lines))
    check("and the last lines name it again", lines and
          other in "\n".join(lines[-2:]), lines[-3:])
    done()


if __name__ == "__main__":
    main()
