#!/usr/bin/env node
// Prints the SQL that seeds the sandbox pipeline database (tools/sandbox/pipeline_schema.sql)
// with DAYS of hourly history up to NOW for the channels of workers/channels.js: daily
// seasonality, offline hours, and the incidents offmon must find (workers/channels.js
// INCIDENTS): a participant drop on one channel, an epoch left unpublished, a missing
// hourly epoch. One row per epoch is generated here; the participants are expanded in SQL
// with generate_series, so the output stays small and the rows are made by the server.
//
//   seed_history.js [--now UNIX_SECONDS] [--days N] [--participation-hours H] [--out-dir DIR]
//
// The SQL comes in four parts: `prologue` (helper tables seed_epochs and seed_users: one
// row per epoch, and each channel's user numbers with their user_hash and username, so
// md5 runs once per user, not once per row), `sealed` (sealed_epochs,
// sealed_participants and its index), `participation` (channel_participation and its
// indexes) and `epilogue` (live_windows, the helpers dropped, ANALYZE). Without
// --out-dir they are printed in that order, one script. With --out-dir they are written
// to DIR/{prologue,sealed,participation,epilogue}.sql: `sealed` and `participation`
// touch different tables and may run at the same time in two sessions
// (tools/sandbox/pipeline.sh does; the two halves of the 2.9 million rows of each of the
// real size's big tables then load on both cores, so each builds its indexes without
// parallel workers). Each part is one transaction that empties its tables first
// (TRUNCATE: the seed is for a new database).
//
// --participation-hours (default 50): channel_participation rows are written for the
// epochs of the last H hours only (offmon reads them for the epochs of the last 24 h);
// sealed_epochs and sealed_participants cover all DAYS. OFFMON_SANDBOX_SCALE multiplies
// every epoch's participants (workers/channels.js).
'use strict';
const fs = require('fs');
const path = require('path');
const { CHANNELS, INCIDENTS, REGULAR_SHARE, POOL, isLive, usualParticipants, unitHash, userNumberSql } =
  require('./workers/channels');

function usage(message) {
  process.stderr.write(`seed_history.js: ${message}\n` +
    'usage: seed_history.js [--now UNIX_SECONDS] [--days N] [--participation-hours H] [--out-dir DIR]\n');
  process.exit(2);
}

const args = { now: Math.floor(Date.now() / 1000), days: 14, participationHours: 50, outDir: null };
for (let i = 2; i < process.argv.length; i += 2) {
  if (process.argv[i] === '--out-dir') {
    if (!process.argv[i + 1]) usage('--out-dir needs a directory');
    args.outDir = process.argv[i + 1];
    continue;
  }
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) usage(`${process.argv[i]} needs a non-negative integer`);
  if (process.argv[i] === '--now') args.now = value;
  else if (process.argv[i] === '--days') args.days = value;
  else if (process.argv[i] === '--participation-hours') args.participationHours = value;
  else usage(`unknown option ${process.argv[i]}`);
}

const now = args.now;
const currentHour = now - (now % 3600);
const first = currentHour - args.days * 86400;
const dropFrom = currentHour - INCIDENTS.dropHours * 3600;
const missingEpoch = currentHour - INCIDENTS.missingHoursAgo * 3600;
const participationFrom = currentHour - args.participationHours * 3600;

const rows = [];  // [epoch, channel, n, sealed, sealed_at, published, published_at, participation]
const windows = [];  // [channel, start, end|null]
for (const c of CHANNELS) {
  let windowStart = null;
  let unpublished = null;  // index in rows of the incident's unpublished epoch
  // Epochs up to the last complete hour; the current hour is the live workers' business.
  for (let epoch = first; epoch < currentHour; epoch += 3600) {
    const live = isLive(c, epoch);
    if (live && windowStart === null) windowStart = epoch;
    if (!live && windowStart !== null) {
      windows.push([c.name, windowStart, epoch]);
      windowStart = null;
    }
    if (!live) continue;
    let n = usualParticipants(c, epoch);
    if (c.name === INCIDENTS.dropChannel && epoch >= dropFrom) n = Math.max(1, Math.round(n * INCIDENTS.dropFactor));
    // Sealed one to five minutes after the hour ends, published two to five minutes later.
    const sealedAt = epoch + 3600 + 60 + Math.floor(unitHash(`sealed:${c.name}:${epoch}`) * 240);
    const publishedAt = sealedAt + 120 + Math.floor(unitHash(`published:${c.name}:${epoch}`) * 180);
    const sealed = sealedAt <= now && !(c.name === INCIDENTS.missingChannel && epoch === missingEpoch);
    rows.push([epoch, c.name, n, sealed, sealedAt, publishedAt <= now ? 1 : 0, publishedAt, epoch >= participationFrom]);
    if (c.name === INCIDENTS.unpublishedChannel && sealed && sealedAt <= now - INCIDENTS.unpublishedMinAgeSeconds) {
      unpublished = rows.length - 1;
    }
  }
  if (windowStart !== null) windows.push([c.name, windowStart, isLive(c, now) ? null : currentHour]);
  if (unpublished !== null) rows[unpublished][5] = 0;
}

const lit = (v) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));
const values = (list) => list.map((r) => `(${r.map(lit).join(', ')})`).join(',\n');

// Epochs in (epoch, channel) order: the big tables are written in that order, so the
// sort of their (epoch, ...) index builds finds the rows nearly sorted.
rows.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));

const userNumber = userNumberSql('u', 's.n', 's.epoch');
// The user a row of the series `u` of epoch `s` is: joined by (channel, num).
const participants = (where) => `FROM seed_epochs s, generate_series(1, s.n) u,
    LATERAL (SELECT ${userNumber} AS num) x, seed_users usr
  WHERE ${where} AND usr.channel = s.channel AND usr.num = x.num`;

const parts = {
  prologue: `-- Generated by tools/sandbox/seed_history.js --now ${now} --days ${args.days}
BEGIN;
SET LOCAL client_min_messages = warning;
DROP TABLE IF EXISTS seed_epochs, seed_users;
-- Helpers for the two bulk parts (which may run in other sessions): UNLOGGED, no WAL.
CREATE UNLOGGED TABLE seed_epochs (
  epoch bigint, channel text, n integer, sealed boolean, sealed_at bigint,
  published integer, published_at bigint, participation boolean
);
INSERT INTO seed_epochs VALUES
${values(rows)};
-- Every user number an epoch of the channel can draw (regulars up to the channel's
-- largest epoch, and the pool), with its user_hash and username: md5 once per user.
CREATE UNLOGGED TABLE seed_users AS
  SELECT c.channel, g.num::bigint AS num, md5(c.channel || ':' || g.num) AS user_hash, 'viewer' || g.num AS username
  FROM (SELECT channel, max(n) AS n FROM seed_epochs GROUP BY channel) c,
       LATERAL (SELECT generate_series(1, c.n * ${REGULAR_SHARE.num} / ${REGULAR_SHARE.den})
                UNION ALL SELECT generate_series(${POOL.base}, ${POOL.base + POOL.size - 1})) g(num);
ANALYZE seed_epochs, seed_users;
COMMIT;
`,
  sealed: `BEGIN;
TRUNCATE sealed_epochs, sealed_participants;
-- The index is built once after the bulk load: faster than maintained row by row.
DROP INDEX IF EXISTS sealed_participants_epoch_channel;
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL max_parallel_maintenance_workers = 0;
INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published, token_group, category, published_at)
  SELECT epoch, channel, md5(channel || ':' || epoch || ':' || n), sealed_at, published, 'MILO', 'default',
         CASE WHEN published = 1 THEN to_timestamp(published_at) END
  FROM seed_epochs WHERE sealed;
INSERT INTO sealed_participants (epoch, channel, idx, user_hash, username, token_group, category)
  SELECT s.epoch, s.channel, u - 1, usr.user_hash, usr.username, 'MILO', 'default'
  ${participants('s.sealed')};
CREATE INDEX sealed_participants_epoch_channel ON sealed_participants (epoch, channel, idx);
ANALYZE sealed_epochs, sealed_participants;
COMMIT;
`,
  participation: `BEGIN;
TRUNCATE channel_participation;
DROP INDEX IF EXISTS channel_participation_channel_epoch, channel_participation_epoch;
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL max_parallel_maintenance_workers = 0;
-- Every participant was first seen during its epoch's hour, before the epoch was sealed.
INSERT INTO channel_participation (epoch, channel, user_hash, first_seen, token_group, category)
  SELECT s.epoch, s.channel, usr.user_hash, s.epoch + (u * 7919) % 3600, 'MILO', 'default'
  ${participants('s.participation')};
CREATE INDEX channel_participation_epoch ON channel_participation (epoch);
CREATE INDEX channel_participation_channel_epoch ON channel_participation (channel, epoch);
ANALYZE channel_participation;
COMMIT;
`,
  epilogue: `BEGIN;
TRUNCATE live_windows;
INSERT INTO live_windows (channel, start_ts, end_ts) VALUES
${values(windows)};
DROP TABLE seed_epochs, seed_users;
ANALYZE live_windows;
COMMIT;
`,
};

if (args.outDir) {
  fs.mkdirSync(args.outDir, { recursive: true });
  for (const [name, sql] of Object.entries(parts)) fs.writeFileSync(path.join(args.outDir, `${name}.sql`), sql);
} else {
  process.stdout.write(Object.values(parts).join(''));
}
