-- Up Migration
-- Usage sources (issue 14): each switch registered once with its settings, read the same way by
-- `billing usage import --source NAME` and by its collector, `usage-collector-<name>`, which a
-- Temporal Schedule of the same name runs. The DSN holds the switch database's password: it is
-- read by the collector's activity from here, never printed in clear, never in a workflow payload.
CREATE TABLE usage_sources (
  name                 text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  kind                 text NOT NULL CHECK (kind IN ('asterisk-db', 'spool')),
  format               text NOT NULL,
  timezone             text NOT NULL,
  country              text,
  voicemail_numbers    text[],
  feature_codes        text[],
  -- Asterisk optional columns of a cdr_csv layout (spool sources of format asterisk)
  columns              text[],
  dsn                  text,
  cdr_table            text,
  dir                  text,
  every_seconds        integer NOT NULL DEFAULT 300 CHECK (every_seconds >= 10),
  -- A row is read again while its calldate is within this of the watermark (rows that commit late).
  safety_window_seconds integer NOT NULL DEFAULT 3600 CHECK (safety_window_seconds >= 0),
  max_lag_seconds      integer NOT NULL DEFAULT 1800 CHECK (max_lag_seconds > 0),
  alert_after_failures integer NOT NULL DEFAULT 3 CHECK (alert_after_failures > 0),
  paused               boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  -- asterisk-db: the last calldate read, as the switch's database writes it (its own type), and
  -- the md5 of that row's line, which orders rows of one calldate.
  watermark            text,
  watermark_tiebreak   text,
  last_record_at       timestamptz,
  -- When a run last read everything there was: the lag is the time since.
  caught_up_at         timestamptz,
  last_run_at          timestamptz,
  rows_collected       bigint NOT NULL DEFAULT 0,
  rows_rejected        bigint NOT NULL DEFAULT 0,
  duplicates           bigint NOT NULL DEFAULT 0,
  files_done           integer NOT NULL DEFAULT 0,
  files_failed         integer NOT NULL DEFAULT 0,
  consecutive_failures integer NOT NULL DEFAULT 0,
  last_error           text,
  -- Where the last rows the importer rejected were written (their line and reason).
  last_rejects_file    text,
  last_error_at        timestamptz,
  -- Ops alerted once per incident: set when the alert is queued, cleared when the source is healthy again.
  alerted_at           timestamptz,
  alerts_sent          integer NOT NULL DEFAULT 0,
  CONSTRAINT usage_sources_kind_settings CHECK (
    (kind = 'asterisk-db' AND dsn IS NOT NULL AND cdr_table IS NOT NULL AND dir IS NULL)
    OR (kind = 'spool' AND dir IS NOT NULL AND dsn IS NULL AND cdr_table IS NULL))
);

-- Down Migration
DROP TABLE usage_sources;
