// Runs SQL against the sandbox pipeline database through psql (no npm driver needed):
// the workers get DATABASE_URL (the superuser URL over the sandbox's unix socket, no
// password) and PSQL (the psql binary) from tools/sandbox/pipeline.sh. psql runs from an
// argv vector, never a shell.
'use strict';
const { execFile } = require('child_process');

const psql = process.env.PSQL || 'psql';
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set (start the workers with tools/sandbox/pipeline.sh)');
  process.exit(1);
}

// Resolves with psql's unaligned, tuples-only output split into rows of fields.
function query(sql) {
  return new Promise((resolve, reject) => {
    execFile(psql, ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
      { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`psql: ${(stderr || error.message).trim()}`));
          return;
        }
        resolve(stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t')));
      });
  });
}

module.exports = { query };
