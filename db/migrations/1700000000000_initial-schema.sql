-- Up Migration
-- The system of record (DESIGN, Architecture): subscribers, support staff, versioned policies,
-- calls, invoices with their lines, and the email outbox. Money is integers: rates in micro-units,
-- amounts in cents.

CREATE TABLE subscribers (
  id                text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name              text,
  email             text NOT NULL,
  timezone          text NOT NULL DEFAULT 'UTC',
  business          boolean NOT NULL DEFAULT false,
  monthly_fee_cents bigint NOT NULL DEFAULT 0 CHECK (monthly_fee_cents >= 0),
  account_code      text UNIQUE,
  service_start     date NOT NULL,
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated')),
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscriber_numbers (
  number        text PRIMARY KEY,
  subscriber_id text NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE
);
CREATE INDEX subscriber_numbers_subscriber ON subscriber_numbers (subscriber_id);

CREATE TABLE support_staff (
  id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  email      text NOT NULL,
  name       text,
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE policies (
  version                    integer PRIMARY KEY,
  effective_from             date NOT NULL,
  state                      text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'active', 'superseded', 'cancelled')),
  included_minutes           integer NOT NULL CHECK (included_minutes >= 0),
  overage_rate_micros        bigint NOT NULL CHECK (overage_rate_micros >= 0),
  rounding_increment_seconds integer NOT NULL CHECK (rounding_increment_seconds >= 1),
  plan_streak_cycles         integer NOT NULL CHECK (plan_streak_cycles >= 1),
  plan_catalog               jsonb NOT NULL,
  alert_thresholds_percent   integer[] NOT NULL,
  notice_days                integer NOT NULL CHECK (notice_days >= 0),
  currency                   text NOT NULL DEFAULT 'USD',
  published_at               timestamptz NOT NULL DEFAULT now(),
  cancelled_at               timestamptz
);

-- One row per counted (or deliberately not counted) piece of a call for one subscriber. A call
-- that crosses a month boundary in the subscriber's zone is stored as one segment per month.
CREATE TABLE calls (
  id                 bigserial PRIMARY KEY,
  record_key         text NOT NULL,
  subscriber_id      text NOT NULL REFERENCES subscribers (id),
  segment            smallint NOT NULL DEFAULT 0,
  period             text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  started_at         timestamptz NOT NULL,
  billable_seconds   integer NOT NULL CHECK (billable_seconds >= 0),
  direction          text NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  counted            boolean NOT NULL,
  not_counted_reason text,
  source             text NOT NULL,
  imported_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT calls_once UNIQUE (record_key, subscriber_id, segment),
  CONSTRAINT calls_reason CHECK (counted OR not_counted_reason IS NOT NULL)
);
CREATE INDEX calls_subscriber_period ON calls (subscriber_id, period);

CREATE TABLE invoices (
  id                  text PRIMARY KEY,
  subscriber_id       text NOT NULL REFERENCES subscribers (id),
  period              text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  policy_version      integer NOT NULL REFERENCES policies (version),
  currency            text NOT NULL,
  calls               integer NOT NULL,
  used_seconds        bigint NOT NULL,
  allowance_seconds   bigint NOT NULL,
  overage_minutes     integer NOT NULL,
  overage_rate_micros bigint NOT NULL,
  total_cents         bigint NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT invoices_once UNIQUE (subscriber_id, period)
);
CREATE INDEX invoices_period ON invoices (period);

CREATE TABLE invoice_lines (
  invoice_id        text NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  line_no           integer NOT NULL,
  kind              text NOT NULL,
  description       text NOT NULL,
  quantity          bigint NOT NULL,
  unit_price_micros bigint NOT NULL,
  amount_cents      bigint NOT NULL,
  PRIMARY KEY (invoice_id, line_no)
);

-- Every email goes through here first, keyed by its purpose, so no email is sent twice.
CREATE TABLE email_outbox (
  idempotency_key text PRIMARY KEY,
  purpose         text NOT NULL,
  subscriber_id   text REFERENCES subscribers (id),
  to_address      text NOT NULL,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  message_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);

-- Down Migration
DROP TABLE email_outbox;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE calls;
DROP TABLE policies;
DROP TABLE support_staff;
DROP TABLE subscriber_numbers;
DROP TABLE subscribers;
