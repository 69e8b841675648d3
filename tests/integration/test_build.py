# SPDX-License-Identifier: ISC (see LICENSE)
"""The build's own guard (issue 9): `make` without the build dependencies
stops at once with one line naming the Debian packages and the command
(tests/havedeps.sh), and says nothing when they are there."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import check, check_eq, done, tmpdir

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "tests", "havedeps.sh")


def fake_cc(d, missing):
    """A compiler whose preprocessor knows every header but these."""
    path = os.path.join(d, "fakecc")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nin=$(cat)\nfor h in %s; do\n"
                "  case $in in *\"<$h>\"*) exit 1 ;; esac\ndone\nexit 0\n"
                % " ".join(missing))
    os.chmod(path, 0o755)
    return path


def havedeps(cc):
    return subprocess.run(["sh", SCRIPT, cc], capture_output=True,
                          timeout=60)


def main():
    d = tmpdir()
    r = havedeps(fake_cc(d, []))
    check("all headers there: exit 0, silent",
          r.returncode == 0 and r.stdout == b"" and r.stderr == b"", r)
    r = havedeps(fake_cc(d, ["ini.h", "openssl/ssl.h"]))
    check_eq("ini.h and openssl missing: one line, the packages and the "
             "command", (r.returncode, r.stderr),
             (1, b"make: missing Debian packages: libinih-dev libssl-dev; "
              b"install them as root (or with sudo): apt-get install "
              b"libinih-dev libssl-dev\n"))
    r = havedeps(fake_cc(d, ["gssapi/gssapi.h", "json-c/json.h"]))
    check_eq("GSS-API and json-c headers missing: their -dev packages",
             (r.returncode, r.stderr),
             (1, b"make: missing Debian packages: libkrb5-dev libjson-c-dev; "
              b"install them as root (or with sudo): apt-get install "
              b"libkrb5-dev libjson-c-dev\n"))
    r = havedeps(fake_cc(d, ["errno.h"]))
    check("no C library headers: libc6-dev named",
          r.returncode == 1 and b"packages: libc6-dev;" in r.stderr and
          len(r.stderr.splitlines()) == 1, r)
    r = havedeps(os.path.join(d, "no-such-cc"))
    check("no compiler: gcc and every library named, one line",
          r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          b"apt-get install gcc libc6-dev libinih-dev libkrb5-dev "
          b"libntlm0-dev libssl-dev libcurl4-openssl-dev libjson-c-dev"
          in r.stderr, r)
    r = havedeps("cc")
    check("this machine's cc: the build dependencies are there",
          r.returncode == 0 and r.stderr == b"", r)
    done()


if __name__ == "__main__":
    main()
