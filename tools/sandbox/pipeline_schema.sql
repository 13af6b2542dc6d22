-- The monitored pipeline's tables as offmon reads them (../shared/spec/pipeline-schema.md).
-- Loaded into the sandbox server by tools/sandbox/postgres.sh; times are unix seconds.
-- This is the current schema, with token_group/category; pipeline_schema_old.sql is
-- the older one without them.

-- One row per distinct user seen in a channel during an epoch (the hour's start).
-- There is no created_at column: "events in the last hour" are counted from first_seen.
CREATE TABLE channel_participation (
  epoch       bigint NOT NULL,
  channel     text   NOT NULL,
  user_hash   text   NOT NULL,
  first_seen  bigint NOT NULL,
  token_group text   NOT NULL DEFAULT 'MILO',
  category    text   NOT NULL DEFAULT 'default'
);
CREATE INDEX channel_participation_channel_epoch ON channel_participation (channel, epoch);
CREATE INDEX channel_participation_epoch ON channel_participation (epoch);

-- One row per sealed (epoch, channel). published is an integer (0/1), not a boolean.
CREATE TABLE sealed_epochs (
  epoch        bigint  NOT NULL,
  channel      text    NOT NULL,
  root         text    NOT NULL,
  sealed_at    bigint  NOT NULL,
  published    integer NOT NULL DEFAULT 0,
  token_group  text,
  category     text,
  published_at timestamptz,
  PRIMARY KEY (epoch, channel)
);

-- The frozen, ordered participant list of a sealed epoch; its row count is the epoch's
-- participant count.
CREATE TABLE sealed_participants (
  epoch       bigint  NOT NULL,
  channel     text    NOT NULL,
  idx         integer NOT NULL,
  user_hash   text    NOT NULL,
  username    text,
  token_group text,
  category    text
);
-- Not stated by the spec; any real deployment needs an index to read one epoch's list.
CREATE INDEX sealed_participants_epoch_channel ON sealed_participants (epoch, channel, idx);

-- Streaming windows per channel: a missing hourly epoch only matters while live.
CREATE TABLE live_windows (
  channel  text   NOT NULL,
  start_ts bigint NOT NULL,
  end_ts   bigint
);
CREATE INDEX live_windows_channel_start ON live_windows (channel, start_ts);
