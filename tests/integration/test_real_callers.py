# SPDX-License-Identifier: ISC (see LICENSE)
"""The real programs, not their argv: PHP's mail(), mutt and git
send-email each run postern the way they were built to, against the
scripted server.  (cron, mailx and sudo call /usr/sbin/sendmail by a fixed
path; test_callers.py replays their exact argv instead.)"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, tmpdir,
                     ini_for, postern_path, base_env, split_message)
from fakesmtp import FakeSMTP


def wrapper(d, ini):
    """A sendmail path that runs postern with the test's ini."""
    path = os.path.join(d, "sendmail")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec %s -C %s \"$@\"\n" % (postern_path(), ini))
    os.chmod(path, 0o755)
    return path


def have(prog, name):
    if shutil.which(prog) is None:
        check("%s installed (tests/deps.sh)" % name, False, prog)
        return False
    return True


def fields(data):
    return {n: v for n, v in split_message(data)[0]}


def php_mail():
    if not have("php", "php-cli"):
        return
    srv = FakeSMTP().start()
    try:
        ini, d = ini_for(srv.port)
        sm = wrapper(d, ini)
        code = ('var_dump(mail("dest@y.test", "PHP test", '
                '"Line one\\nLine two\\n.\\nafter dot", '
                '"From: Web <web@x.test>\\r\\nBcc: hidden@y.test"));')
        p = subprocess.run(["php", "-n", "-d",
                            "sendmail_path=%s -t -i -fbounce@x.test" % sm,
                            "-r", code], capture_output=True,
                           env=base_env(), timeout=60)
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check("php mail(): returns true", p.stdout.strip() == b"bool(true)", p)
    if not check_eq("php mail(): delivered once", len(msgs), 1):
        return
    m = msgs[0]
    check_eq("php mail(): envelope", (m.mail, sorted(m.rcpts)),
             ("bounce@x.test", ["dest@y.test", "hidden@y.test"]))
    f = fields(m.data)
    check("php mail(): no Bcc header", b"bcc" not in f, m.data)
    check("php mail(): body kept, lone dot kept (-i), CRLF",
          m.data.endswith(b"\r\nLine one\r\nLine two\r\n.\r\nafter dot\r\n"),
          m.data)


def mutt():
    if not have("mutt", "mutt"):
        return
    srv = FakeSMTP().start()
    try:
        ini, d = ini_for(srv.port)
        sm = wrapper(d, ini)
        p = subprocess.run(
            ["mutt", "-n", "-F", "/dev/null", "-e",
             'set sendmail="%s -oem -oi"; set from="me@x.test"; '
             "set use_envelope_from=yes" % sm,
             "-s", "mutt subject", "-b", "bcc@y.test", "to@y.test"],
            input=b"mutt body\n", capture_output=True,
            env=base_env({"HOME": d}), timeout=60)
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check_eq("mutt: exit 0", p.returncode, 0)
    if not check_eq("mutt: delivered once", len(msgs), 1):
        return
    m = msgs[0]
    check_eq("mutt: envelope (Bcc recipient included)",
             (m.mail, sorted(m.rcpts)),
             ("me@x.test", ["bcc@y.test", "to@y.test"]))
    check("mutt: no Bcc header", b"bcc" not in fields(m.data), m.data)
    check("mutt: body", m.data.endswith(b"\r\n\r\nmutt body\r\n"), m.data)


def git_send_email():
    if not have("git", "git"):
        return
    if not os.path.exists("/usr/lib/git-core/git-send-email"):
        check("git send-email installed (git-email)", False, "")
        return
    srv = FakeSMTP().start()
    try:
        ini, d = ini_for(srv.port)
        sm = wrapper(d, ini)
        repo = os.path.join(d, "repo")
        env = base_env({"HOME": d, "GIT_AUTHOR_NAME": "Dev",
                        "GIT_AUTHOR_EMAIL": "dev@x.test",
                        "GIT_COMMITTER_NAME": "Dev",
                        "GIT_COMMITTER_EMAIL": "dev@x.test"})

        def git(*a):
            return subprocess.run(["git", "-C", repo] + list(a),
                                  capture_output=True, env=env, timeout=60)
        os.makedirs(repo)
        git("init", "-q")
        with open(os.path.join(repo, "f"), "w") as f:
            f.write("hello\n.dot line\n")
        git("add", "f")
        git("commit", "-q", "-m", "Add f")
        git("format-patch", "-1", "-o", os.path.join(d, "p"))
        patch = os.path.join(d, "p", os.listdir(os.path.join(d, "p"))[0])
        p = git("send-email", "--quiet", "--confirm=never",
                "--smtp-server=%s" % sm, "--to=list@y.test", patch)
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check_eq("git send-email: exit 0", p.returncode, 0)
    if not check_eq("git send-email: delivered once", len(msgs), 1):
        return
    m = msgs[0]
    check_eq("git send-email: envelope", (m.mail, sorted(m.rcpts)),
             ("dev@x.test", ["dev@x.test", "list@y.test"]))
    check("git send-email: the patch arrives intact",
          b"\r\n+.dot line\r\n" in m.data and b"Subject: [PATCH] Add f"
          in m.data, m.data)


def main():
    require_postern()
    php_mail()
    mutt()
    git_send_email()
    return done()


if __name__ == "__main__":
    sys.exit(main())
