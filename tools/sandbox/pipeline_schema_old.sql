-- The monitored pipeline's tables in the older schema some deployments still run: as
-- pipeline_schema.sql (../shared/spec/pipeline-schema.md) but without the token_group
-- and category columns. Loaded by tools/sandbox/postgres.sh --old-schema; times are
-- unix seconds.

CREATE TABLE channel_participation (
  epoch      bigint NOT NULL,
  channel    text   NOT NULL,
  user_hash  text   NOT NULL,
  first_seen bigint NOT NULL
);
CREATE INDEX channel_participation_channel_epoch ON channel_participation (channel, epoch);
CREATE INDEX channel_participation_epoch ON channel_participation (epoch);

CREATE TABLE sealed_epochs (
  epoch        bigint  NOT NULL,
  channel      text    NOT NULL,
  root         text    NOT NULL,
  sealed_at    bigint  NOT NULL,
  published    integer NOT NULL DEFAULT 0,
  published_at timestamptz,
  PRIMARY KEY (epoch, channel)
);

CREATE TABLE sealed_participants (
  epoch     bigint  NOT NULL,
  channel   text    NOT NULL,
  idx       integer NOT NULL,
  user_hash text    NOT NULL,
  username  text
);
CREATE INDEX sealed_participants_epoch_channel ON sealed_participants (epoch, channel, idx);

CREATE TABLE live_windows (
  channel  text   NOT NULL,
  start_ts bigint NOT NULL,
  end_ts   bigint
);
CREATE INDEX live_windows_channel_start ON live_windows (channel, start_ts);
