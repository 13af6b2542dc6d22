-- Schema version 3: the pipeline's sealed epochs and their participants.

-- Projection of users_registered events: user_hash -> stable 32-bit id, so participant
-- sets are compressed bitmaps instead of lists of 64-character hashes.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE
);

-- Projection of epoch_sealed events: the latest observation of each (channel, epoch).
-- Earlier observations (a root that changed, an epoch published later) stay in the log.
CREATE TABLE epochs (
  channel TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  sealed_at_ms INTEGER NOT NULL,
  published INTEGER NOT NULL,
  published_at_ms INTEGER,
  root TEXT NOT NULL,
  token_group TEXT NOT NULL,
  category TEXT NOT NULL,
  participants INTEGER NOT NULL,
  bitmap BLOB NOT NULL,
  seq INTEGER NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (channel, epoch)
);
CREATE INDEX epochs_by_sealed_at ON epochs(sealed_at_ms);
