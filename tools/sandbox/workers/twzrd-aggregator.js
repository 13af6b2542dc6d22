// The sandbox's twzrd-aggregator: "collects Twitch events". Every few seconds it writes
// the participation rows (channel_participation) of the channels that are live, in
// one-minute epochs (the sandbox's time compression: an epoch is a minute, not an hour),
// at the rate workers/channels.js gives for the time of day, so that each minute epoch
// reaches the channel's usual participant count. The incident's channel keeps its drop.
//
// Every table must stay consistent under the time compression, as in the real pipeline
// where a row's first_seen lies inside its hour and the hour is sealed minutes later:
// first_seen lies inside its minute (a late tick writes at most the minute's last
// second), and rows of a minute are written only until LATE_SECONDS into the next one,
// well before tree-builder-worker seals it (75 s after it starts). Writing a whole minute
// at start-up with first_seen = now, as this worker once did, put rows in the very second
// the tree builder sealed them: "134 participants but 0 distinct users were recorded
// before it was sealed" (EpochCountMismatch) on every channel.
'use strict';
const { CHANNELS, INCIDENTS, isLive, usualParticipants, userNumberSql } = require('./channels');
const { query } = require('./psql');

const TICK_MS = Number(process.env.AGGREGATOR_TICK_MS || 5000);
const FILL_SECONDS = 50;  // an epoch's participants all arrive in its first 50 seconds
const LATE_SECONDS = 10;  // a late tick still tops up the previous minute this long
const inserted = new Map();  // "channel:epoch" -> rows written
let total = 0;

function target(c, epoch) {
  const n = usualParticipants(c, epoch);
  return c.name === INCIDENTS.dropChannel ? Math.max(1, Math.round(n * INCIDENTS.dropFactor)) : n;
}

async function tick() {
  const now = Date.now() / 1000;
  const current = Math.floor(now / 60) * 60;
  const statements = [];
  let rows = 0;
  const live = new Set();
  // The previous minute is topped up too, in case a tick was late, but not near its seal.
  const epochs = now - current < LATE_SECONDS ? [current - 60, current] : [current];
  for (const epoch of epochs) {
    const share = epoch === current ? Math.min(1, (now - epoch) / FILL_SECONDS) : 1;
    for (const c of CHANNELS) {
      if (!isLive(c, epoch)) continue;
      live.add(c.name);
      const n = target(c, epoch);
      const want = Math.round(n * share);
      const key = `${c.name}:${epoch}`;
      const have = inserted.get(key) || 0;
      if (want <= have) continue;
      const num = userNumberSql('u', n, epoch);
      statements.push(
        'INSERT INTO channel_participation (epoch, channel, user_hash, first_seen)' +
        ` SELECT ${epoch}, '${c.name}', md5('${c.name}:' || (${num})),` +
        ` least(floor(extract(epoch from now()))::bigint, ${epoch + 59})` +
        ` FROM generate_series(${have + 1}, ${want}) u;`);
      inserted.set(key, want);
      rows += want - have;
    }
  }
  for (const key of inserted.keys()) {
    if (Number(key.split(':')[1]) < current - 120) inserted.delete(key);
  }
  if (statements.length === 0) return;
  await query(`BEGIN; ${statements.join(' ')} COMMIT;`);
  total += rows;
  console.log(`aggregator: ${rows} participation events for ${[...live].join(', ')} (epoch ${current}, total ${total})`);
}

async function loop() {
  try {
    await tick();
  } catch (e) {
    console.error(`aggregator error: ${e.message}`);
  }
  setTimeout(loop, TICK_MS);
}

console.log(`twzrd-aggregator starting, pid ${process.pid}, one-minute epochs, tick ${TICK_MS} ms`);
loop();
