// The sandbox's tree-builder-worker: "seals epochs hourly", time-compressed to one-minute
// epochs. Every few seconds it seals each (epoch, channel) of the last half hour that has
// participation rows, ended SEAL_DELAY seconds ago and is not sealed yet: the frozen,
// ordered participant list goes to sealed_participants, the row with a root (md5 over the
// ordered list, standing in for the Merkle root) to sealed_epochs, unpublished. Epochs
// sealed since shortly before it started are published PUBLISH_DELAY seconds after
// sealing. Older history is never touched, so the seeded incidents (hours old) stay.
'use strict';
const { query } = require('./psql');

const TICK_MS = Number(process.env.TREE_BUILDER_TICK_MS || 5000);
const SEAL_DELAY = 75;     // seconds after an epoch starts: its minute plus 15 s for late rows
const PUBLISH_DELAY = 20;  // seconds after sealing
const WINDOW = 1800;       // only epochs of the last half hour are candidates
// Publishes what was sealed from ten minutes before this start on: the seeded last hour
// may have been sealed just before the sandbox started, and is published as usual.
const PUBLISH_FROM = Math.floor(Date.now() / 1000) - 600;

async function tick() {
  const now = Math.floor(Date.now() / 1000);
  const sealed = await query(`
    BEGIN;
    CREATE TEMP TABLE to_seal ON COMMIT DROP AS
      SELECT DISTINCT p.epoch, p.channel FROM channel_participation p
      WHERE p.epoch >= ${now - WINDOW} AND p.epoch <= ${now - SEAL_DELAY}
        AND NOT EXISTS (SELECT 1 FROM sealed_epochs e WHERE e.epoch = p.epoch AND e.channel = p.channel);
    INSERT INTO sealed_participants (epoch, channel, idx, user_hash, username, token_group, category)
      SELECT epoch, channel, row_number() OVER (PARTITION BY epoch, channel ORDER BY seen, user_hash) - 1,
             user_hash, NULL, 'MILO', 'default'
      FROM (SELECT p.epoch, p.channel, p.user_hash, min(p.first_seen) AS seen
            FROM channel_participation p JOIN to_seal s USING (epoch, channel)
            GROUP BY p.epoch, p.channel, p.user_hash) users;
    INSERT INTO sealed_epochs (epoch, channel, root, sealed_at, published, token_group, category)
      SELECT s.epoch, s.channel, md5(string_agg(sp.user_hash, ',' ORDER BY sp.idx)),
             floor(extract(epoch from now()))::bigint, 0, 'MILO', 'default'
      FROM to_seal s JOIN sealed_participants sp USING (epoch, channel)
      GROUP BY s.epoch, s.channel;
    UPDATE sealed_epochs SET published = 1, published_at = now()
      WHERE published = 0 AND sealed_at >= ${PUBLISH_FROM} AND sealed_at <= ${now - PUBLISH_DELAY};
    SELECT s.epoch, s.channel, count(*) FROM to_seal s JOIN sealed_participants sp USING (epoch, channel)
      GROUP BY s.epoch, s.channel ORDER BY s.epoch, s.channel;
    COMMIT;`);
  for (const [epoch, channel, count] of sealed) {
    console.log(`Sealing epoch ${epoch} for ${channel}: ${count} participants`);
  }
}

async function loop() {
  try {
    await tick();
  } catch (e) {
    console.error(`tree-builder error: ${e.message}`);
  }
  setTimeout(loop, TICK_MS);
}

console.log(`tree-builder-worker starting, pid ${process.pid}, one-minute epochs, tick ${TICK_MS} ms`);
loop();
