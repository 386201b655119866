-- Up Migration
-- Usage import from switch CDR files (DESIGN, "Usage import rules"): every record read is kept in
-- cdr_records once (its key is its source and content), counted or not, matched or not; the calls
-- table holds each record's share for each subscriber it belongs to, split by month, partitioned
-- by month so imports and closes touch one partition.

CREATE TABLE usage_imports (
  id          bigserial PRIMARY KEY,
  source      text NOT NULL,
  file        text NOT NULL,
  format      text NOT NULL,
  timezone    text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  summary     jsonb
);

-- No foreign keys on this table: it takes 100,000 rows a second (DESIGN, Targets), its subscriber
-- ids come from the subscribers table itself (loaded at import), and subscribers are never deleted.
-- Keys begin with the call's start time, so inserts land at the right edge of the index.
CREATE TABLE cdr_records (
  record_key           uuid PRIMARY KEY,
  import_id            bigint NOT NULL,
  source               text NOT NULL,
  format               text NOT NULL,
  line                 integer NOT NULL,
  started_at           timestamptz NOT NULL,
  answered_at          timestamptz,
  billable_seconds     integer NOT NULL CHECK (billable_seconds >= 0),
  calling_number       text,
  called_number        text,
  account_code         text,
  named_subscriber_id  text,
  named_direction      text CHECK (named_direction IN ('outgoing', 'incoming')),
  counted              boolean NOT NULL,
  not_counted_reason   text,
  caller_subscriber_id text,
  callee_subscriber_id text,
  imported_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cdr_records_reason CHECK (counted OR not_counted_reason IS NOT NULL)
);
-- Records that matched nobody, waiting for their number or subscriber to be registered.
CREATE INDEX cdr_records_unmatched ON cdr_records (imported_at)
  WHERE caller_subscriber_id IS NULL AND callee_subscriber_id IS NULL;

DROP TABLE calls;
CREATE TABLE calls (
  record_key         uuid NOT NULL,
  subscriber_id      text NOT NULL,
  direction          text NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  segment            smallint NOT NULL,
  period             text NOT NULL, -- the partition key: one partition per month, created on demand
  started_at         timestamptz NOT NULL,
  billable_seconds   integer NOT NULL,
  counted            boolean NOT NULL,
  not_counted_reason text,
  -- imported after the month was invoiced: billed as an adjustment on the next invoice
  late               boolean NOT NULL DEFAULT false,
  imported_at        timestamptz NOT NULL DEFAULT now()
) PARTITION BY LIST (period);
CREATE TABLE calls_other PARTITION OF calls DEFAULT;
CREATE INDEX calls_subscriber ON calls (subscriber_id); -- within a month's partition

-- Down Migration
DROP TABLE calls;
CREATE TABLE calls (
  id                 bigserial PRIMARY KEY,
  record_key         text NOT NULL,
  subscriber_id      text NOT NULL REFERENCES subscribers (id),
  segment            smallint NOT NULL DEFAULT 0,
  period             text NOT NULL,
  started_at         timestamptz NOT NULL,
  billable_seconds   integer NOT NULL,
  direction          text NOT NULL,
  counted            boolean NOT NULL,
  not_counted_reason text,
  source             text NOT NULL,
  imported_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT calls_once UNIQUE (record_key, subscriber_id, segment)
);
DROP TABLE cdr_records;
DROP TABLE usage_imports;
