// The sandbox pipeline's channels: who streams when, and how many participants an epoch
// has. One model for the seeded history (tools/sandbox/seed_history.js) and the live
// workers, so the live epochs continue the history the analyzer's baselines are built
// from. Deterministic: the same (channel, epoch) always gives the same count.
//
// Counts are the guide's 1,000-5,000 participants per epoch scaled down about ten times
// (fast tests), times OFFMON_SANDBOX_SCALE (an integer, default 1): 8 gives the real size
// of a pipeline, 800-2,400 participants per epoch at the channels' medians
// (pipeline.sh start --size real).
'use strict';

const SCALE = (() => {
  const raw = process.env.OFFMON_SANDBOX_SCALE || '1';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`OFFMON_SANDBOX_SCALE must be a positive integer, not ${raw}`);
  return value;
})();

// offline: [fromHour, toHour) UTC when the channel does not stream (no epoch then); null
// for a 24/7 channel. Every offline stretch is several hours long, so it is never taken
// for a missing hourly epoch (offmon flags holes of one hour only).
const CHANNELS = [
  { name: 'jasontheween', median: 300, peakHour: 20, offline: null },
  { name: 'train', median: 220, peakHour: 22, offline: null },
  { name: 'sykkuno', median: 180, peakHour: 19, offline: null },
  { name: 'xqc', median: 260, peakHour: 17, offline: [7, 13] },
  { name: 'pokimane', median: 130, peakHour: 21, offline: [3, 11] },
  { name: 'shroud', median: 100, peakHour: 1, offline: [10, 16] },
];

// The seeded incidents, all on 24/7 channels so they are current at any time of day.
const INCIDENTS = {
  // ParticipantDrop: this channel's last DROP_HOURS hourly epochs, and every live epoch,
  // have DROP_FACTOR of their usual participants.
  dropChannel: 'jasontheween',
  dropHours: 3,
  dropFactor: 0.28,
  // EpochMissing: this channel's epoch three hours before the current hour was never
  // sealed (its participation rows exist; the tree builder skipped it).
  missingChannel: 'train',
  missingHoursAgo: 3,
  // EpochUnpublished: this channel's newest epoch sealed at least 3 hours ago is left
  // with published = 0.
  unpublishedChannel: 'sykkuno',
  unpublishedMinAgeSeconds: 3 * 3600,
};

// A number in [0, 1) from a string: FNV-1a, so seed and workers agree without a library.
function unitHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 4294967296;
}

function channel(name) {
  const c = CHANNELS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown channel ${name}`);
  return c;
}

// Whether the channel streams at unix second t.
function isLive(c, t) {
  if (!c.offline) return true;
  const hour = Math.floor(t / 3600) % 24;
  const [from, to] = c.offline;
  return from <= to ? !(hour >= from && hour < to) : !(hour >= from || hour < to);
}

// The usual participants of an epoch starting at unix second t: the channel's median
// swinging +-40 % over the day (peak at peakHour UTC), plus up to +-8 % noise.
function usualParticipants(c, t) {
  const hour = (t % 86400) / 3600;
  const seasonal = 1 + 0.4 * Math.cos((2 * Math.PI * (hour - c.peakHour)) / 24);
  const noise = 1 + 0.16 * (unitHash(`${c.name}:${t}`) - 0.5);
  return Math.max(1, Math.round(c.median * SCALE * seasonal * noise));
}

// The user numbers of an epoch's participants are 1..n below REGULAR_SHARE * n (the
// channel's regulars, present in every epoch) and a rotating pool above (POOL.base up to
// POOL.base + POOL.size - 1). This SQL expression maps the series value `u` of an epoch
// `epochExpr` with `nExpr` participants to a user number; user_hash is
// md5(channel || ':' || number). REGULAR_SHARE is a fraction of integers (60 %), so the
// comparison is integer arithmetic, not numeric: it runs for each of millions of rows
// of the real-size seed.
const REGULAR_SHARE = { num: 3, den: 5 };
const POOL = { base: 100000, size: 20000 };
function userNumberSql(u, nExpr, epochExpr) {
  return `CASE WHEN ${u} * ${REGULAR_SHARE.den} <= ${REGULAR_SHARE.num} * (${nExpr}) THEN ${u}` +
    ` ELSE ${POOL.base} + ((${epochExpr})::bigint / 60 * 997 + ${u}) % ${POOL.size} END`;
}

module.exports = {
  CHANNELS, INCIDENTS, REGULAR_SHARE, POOL, channel, isLive, usualParticipants, unitHash, userNumberSql,
};
