// The soak's webhook receiver (tools/soak.sh): records every request it answers as one
// JSON line {"t", "id", "transition", "alert"} in LOG, and answers 200. While the file
// HANG exists it holds each request unanswered until the file is gone (a receiver that
// hangs), so offmon's sender times out, backs off and retries.
//   node receiver.js PORT_FILE LOG HANG
'use strict';
const http = require('http');
const fs = require('fs');
const [portFile, logFile, hangFile] = process.argv.slice(2);

function whenNotHung(fn) {
  if (!fs.existsSync(hangFile)) return fn();
  setTimeout(() => whenNotHung(fn), 200);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => whenNotHung(() => {
    if (req.socket.destroyed) return;  // the sender gave up on this attempt: not received
    let body = {};
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { body = {}; }
    const line = { t: Date.now(), id: req.headers['idempotency-key'] || body.id || '',
                   transition: body.reason || body.transition || '', alert: body.alert || '' };
    fs.appendFileSync(logFile, JSON.stringify(line) + '\n');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
  }));
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
