"""tests/deb/sink.py PORT MAILDIR: the SMTP server make check-deb sends
to, on 127.0.0.1:PORT.  tests/integration/lib/fakesmtp.py offering AUTH
PLAIN LOGIN and accepting any login: each message goes to MAILDIR/<n>.eml
and each AUTH PLAIN initial response (base64) to MAILDIR/auth.log, so the
test sees the password the package stored.  Prints "listening on PORT"
when ready; runs until killed."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "lib"))
from fakesmtp import FakeSMTP  # noqa: E402


def main(argv):
    port, maildir = int(argv[1]), argv[2]
    os.makedirs(maildir, exist_ok=True)
    lock = threading.Lock()
    count = [0]

    def store(txn):
        with lock:
            count[0] += 1
            path = os.path.join(maildir, "%d.eml" % count[0])
        with open(path + ".tmp", "wb") as f:
            f.write(txn.data)
        os.rename(path + ".tmp", path)

    def login(arg):
        with lock, open(os.path.join(maildir, "auth.log"), "a") as f:
            f.write(arg + "\n")
        return "235 2.7.0 Authentication successful"

    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN"],
                   auth=[login], on_message=store, idle_timeout=60)
    srv.start(port)
    print("listening on %d" % srv.port, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
