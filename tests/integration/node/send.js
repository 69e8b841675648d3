// send.js HOST PORT FROM TO FILE: send FILE as it is through nodemailer's
// SMTP transport (no TLS: postern -bd on loopback); exit 0 once the
// server accepted it.  Run by tests/integration/test_bd.py with
// NODE_PATH pointing at the installed node_modules.
'use strict';
const fs = require('fs');
const nodemailer = require('nodemailer');

const [host, port, from, to, file] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host,
  port: Number(port),
  secure: false,
  ignoreTLS: true,
  connectionTimeout: 30000,
  greetingTimeout: 30000,
  socketTimeout: 30000,
});
transport.sendMail({ envelope: { from, to: [to] }, raw: fs.readFileSync(file) })
  .then((info) => { console.log(info.response); process.exit(0); })
  .catch((err) => { console.error(err.message); process.exit(1); });
