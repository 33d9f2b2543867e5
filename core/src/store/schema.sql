-- The platform store's schema (govdata store init). Idempotent: run it again to
-- migrate an older schema to this one.

CREATE SCHEMA IF NOT EXISTS govdata;

CREATE TABLE IF NOT EXISTS govdata.schema_version (
  version    integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Roles without login: the administrator grants them to login roles.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'govdata_shipper') THEN
    CREATE ROLE govdata_shipper NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'govdata_retention') THEN
    CREATE ROLE govdata_retention NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'govdata_reader') THEN
    CREATE ROLE govdata_reader NOLOGIN;
  END IF;
END
$$;

-- One row per node: which log it ships (id, suite, key check value, and a MAC that
-- binds the log to the node id), where its rows begin, and the head of its chain in
-- the store. The insert triggers of audit_records advance the head; nothing else may.
CREATE TABLE IF NOT EXISTS govdata.audit_nodes (
  node_id       text PRIMARY KEY,
  log_id        bytea NOT NULL CHECK (length(log_id) = 16),
  suite         text NOT NULL CHECK (suite IN ('sha256', 'sm3')),
  key_check     text NOT NULL,
  binding       bytea NOT NULL CHECK (length(binding) = 32),
  first_seq     bigint NOT NULL CHECK (first_seq >= 1),
  base_head     bytea NOT NULL CHECK (length(base_head) = 32),
  head_seq      bigint NOT NULL,
  head          bytea NOT NULL CHECK (length(head) = 32),
  head_time     timestamptz,
  registered_at timestamptz NOT NULL DEFAULT now(),
  CHECK (head_seq >= first_seq - 1)
);

-- The records, as the node wrote them: the payload bytes with the chain values
-- around them (the store re-verifies them with the log's rules), and the 等保 fields
-- taken out of the payload for queries. Partitioned by the record's UTC month, so
-- that retention drops whole months.
CREATE TABLE IF NOT EXISTS govdata.audit_records (
  node_id        text NOT NULL,
  seq            bigint NOT NULL CHECK (seq >= 1),
  month          date NOT NULL,
  time           timestamptz NOT NULL,
  kind           text NOT NULL,
  user_id        text,
  department     text,
  action         text,
  resource_type  text,
  resource_id    text,
  decision       text,
  policies       text[] NOT NULL,
  policy_version text,
  outcome        text NOT NULL,
  fields         jsonb NOT NULL,
  payload        bytea NOT NULL,
  prev_head      bytea NOT NULL CHECK (length(prev_head) = 32),
  head           bytea NOT NULL CHECK (length(head) = 32),
  tag            bytea NOT NULL CHECK (length(tag) = 32),
  stored_at      timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (month);

-- Unique within a month; across months the chain trigger keeps (node_id, seq)
-- unique, since every row must continue its node's head.
CREATE UNIQUE INDEX IF NOT EXISTS audit_records_node_seq
  ON govdata.audit_records (node_id, seq, month);
CREATE INDEX IF NOT EXISTS audit_records_time ON govdata.audit_records (time);
CREATE INDEX IF NOT EXISTS audit_records_user ON govdata.audit_records (user_id, time);

-- The seals of the nodes' segments, as written (payload and MAC).
CREATE TABLE IF NOT EXISTS govdata.audit_seals (
  node_id   text NOT NULL,
  segment   bigint NOT NULL,
  first_seq bigint NOT NULL,
  last_seq  bigint NOT NULL,
  sealed_at timestamptz NOT NULL,
  payload   bytea NOT NULL CHECK (length(payload) = 96),
  tag       bytea NOT NULL CHECK (length(tag) = 32),
  stored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, segment)
);

-- Backups of a month, recorded once verified (by the retention role).
CREATE TABLE IF NOT EXISTS govdata.audit_backups (
  id          bigserial PRIMARY KEY,
  month       date NOT NULL,
  location    text NOT NULL,
  digest      text NOT NULL,
  verified_at timestamptz NOT NULL,
  recorded_by text NOT NULL DEFAULT current_user,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- What retention dropped: per node, the last record of the dropped month and the
-- head after it, where that node's remaining rows must continue.
CREATE TABLE IF NOT EXISTS govdata.audit_horizons (
  node_id    text NOT NULL,
  month      date NOT NULL,
  last_seq   bigint NOT NULL,
  head       bytea NOT NULL CHECK (length(head) = 32),
  records    bigint NOT NULL,
  dropped_by text NOT NULL DEFAULT session_user,
  dropped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, month)
);

-- Append-only, even for the owner: UPDATE, DELETE and TRUNCATE are refused.
CREATE OR REPLACE FUNCTION govdata.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'govdata: % on %.% is refused: the audit store is append-only',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'GD100';
END
$$;

-- The head of a node moves forward only, to a record stored (the statement trigger
-- of audit_records moves it).
CREATE OR REPLACE FUNCTION govdata.node_advance_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.node_id <> OLD.node_id OR NEW.log_id <> OLD.log_id OR NEW.suite <> OLD.suite
     OR NEW.key_check <> OLD.key_check OR NEW.binding <> OLD.binding
     OR NEW.first_seq <> OLD.first_seq OR NEW.base_head <> OLD.base_head
     OR NEW.head_seq <= OLD.head_seq
     OR NOT EXISTS (SELECT 1 FROM govdata.audit_records r
                    WHERE r.node_id = NEW.node_id AND r.seq = NEW.head_seq AND r.head = NEW.head) THEN
    RAISE EXCEPTION 'govdata: node % may only advance its head to a record stored', OLD.node_id
      USING ERRCODE = 'GD100';
  END IF;
  RETURN NEW;
END
$$;

-- Every record continues its node's chain: the next sequence number and the head
-- before it equal to the head after the record before it — the node's head, or a
-- record the same statement inserted just before. The same record again
-- (at-least-once delivery) is skipped; anything else is refused. The node's row is
-- locked (taken again for free by its own transaction), so that one transaction at a
-- time writes a node; its head moves once per statement (audit_advance), so that a
-- batch leaves one row version of it, not one per record.
CREATE OR REPLACE FUNCTION govdata.audit_continue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  n govdata.audit_nodes%ROWTYPE;
  stored bytea;
  prev bytea;
BEGIN
  IF NEW.month <> date_trunc('month', NEW.time AT TIME ZONE 'UTC')::date THEN
    RAISE EXCEPTION 'govdata: record % of node % is filed under month % but dated %',
      NEW.seq, NEW.node_id, NEW.month, NEW.time USING ERRCODE = 'GD101';
  END IF;
  SELECT * INTO n FROM govdata.audit_nodes WHERE node_id = NEW.node_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'govdata: node % is not registered', NEW.node_id USING ERRCODE = 'GD101';
  END IF;
  SELECT r.head INTO stored FROM govdata.audit_records r
    WHERE r.node_id = NEW.node_id AND r.seq = NEW.seq;
  IF FOUND THEN
    IF stored = NEW.head THEN
      RETURN NULL;
    END IF;
    RAISE EXCEPTION 'govdata: record % of node % differs from the one stored (a fork)',
      NEW.seq, NEW.node_id USING ERRCODE = 'GD102';
  END IF;
  IF NEW.seq <= n.head_seq THEN
    RAISE EXCEPTION 'govdata: record % of node % differs from the one stored (a fork)',
      NEW.seq, NEW.node_id USING ERRCODE = 'GD102';
  END IF;
  IF NEW.seq = n.head_seq + 1 THEN
    prev := n.head;
  ELSE
    SELECT r.head INTO prev FROM govdata.audit_records r
      WHERE r.node_id = NEW.node_id AND r.seq = NEW.seq - 1;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'govdata: record % of node % does not follow record % (a gap)',
        NEW.seq, NEW.node_id, n.head_seq USING ERRCODE = 'GD103';
    END IF;
  END IF;
  IF NEW.prev_head <> prev THEN
    RAISE EXCEPTION 'govdata: record % of node % does not continue the chain stored (a fork)',
      NEW.seq, NEW.node_id USING ERRCODE = 'GD102';
  END IF;
  RETURN NEW;
END
$$;

-- After each statement, each node's head moves to the last record it inserted.
CREATE OR REPLACE FUNCTION govdata.audit_advance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
BEGIN
  UPDATE govdata.audit_nodes n SET head_seq = i.seq, head = i.head, head_time = i.time
    FROM (SELECT DISTINCT ON (node_id) node_id, seq, head, time FROM inserted
          ORDER BY node_id, seq DESC) i
    WHERE n.node_id = i.node_id AND i.seq > n.head_seq;
  RETURN NULL;
END
$$;

-- A month's partition, made on demand by the shipper (which may not create tables).
CREATE OR REPLACE FUNCTION govdata.ensure_month(m date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  part text := format('audit_records_%s', to_char(m, 'YYYYMM'));
BEGIN
  IF m <> date_trunc('month', m)::date THEN
    RAISE EXCEPTION 'govdata: % is not the first day of a month', m USING ERRCODE = 'GD101';
  END IF;
  IF to_regclass('govdata.' || part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('govdata.ensure_month'));
  IF to_regclass('govdata.' || part) IS NOT NULL THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TABLE govdata.%I PARTITION OF govdata.audit_records FOR VALUES FROM (%L) TO (%L)',
                 part, m, (m + interval '1 month')::date);
  EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON govdata.%I FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change()', part);
  EXECUTE format('REVOKE ALL ON govdata.%I FROM PUBLIC', part);
END
$$;

-- A verified backup of a month, recorded by the retention role.
CREATE OR REPLACE FUNCTION govdata.record_backup(m date, location text, digest text, verified_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  id bigint;
BEGIN
  INSERT INTO govdata.audit_backups (month, location, digest, verified_at, recorded_by)
    VALUES (date_trunc('month', m)::date, location, digest, verified_at, session_user)
    RETURNING audit_backups.id INTO id;
  RETURN id;
END
$$;

-- Retention: drops a whole month, only when every record in it is older than six
-- calendar months, a verified backup of it is recorded, and no older month remains
-- (so that what stays continues from the horizon it leaves).
CREATE OR REPLACE FUNCTION govdata.drop_month(m date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  part text := format('audit_records_%s', to_char(m, 'YYYYMM'));
  newest timestamptz;
  dropped bigint;
BEGIN
  IF m <> date_trunc('month', m)::date THEN
    RAISE EXCEPTION 'govdata: % is not the first day of a month', m USING ERRCODE = 'GD101';
  END IF;
  IF to_regclass('govdata.' || part) IS NULL THEN
    RAISE EXCEPTION 'govdata: no partition for month %', m USING ERRCODE = 'GD104';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'govdata.audit_records'::regclass
               AND c.relname ~ '^audit_records_[0-9]{6}$' AND c.relname < part) THEN
    RAISE EXCEPTION 'govdata: an older month than % remains: drop months oldest first', m
      USING ERRCODE = 'GD104';
  END IF;
  EXECUTE format('SELECT max(time), count(*) FROM govdata.%I', part) INTO newest, dropped;
  IF newest IS NOT NULL AND newest >= now() - interval '6 months' THEN
    RAISE EXCEPTION 'govdata: month % holds a record of %, younger than six calendar months', m, newest
      USING ERRCODE = 'GD104';
  END IF;
  IF (m + interval '1 month') > now() - interval '6 months' THEN
    RAISE EXCEPTION 'govdata: month % ends less than six calendar months ago', m
      USING ERRCODE = 'GD104';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM govdata.audit_backups b WHERE b.month = m AND b.verified_at IS NOT NULL) THEN
    RAISE EXCEPTION 'govdata: no verified backup of month % is recorded', m USING ERRCODE = 'GD104';
  END IF;
  EXECUTE format(
    'INSERT INTO govdata.audit_horizons (node_id, month, last_seq, head, records)
       SELECT DISTINCT ON (node_id) node_id, %L::date, seq, head, count(*) OVER (PARTITION BY node_id)
       FROM govdata.%I ORDER BY node_id, seq DESC', m, part);
  EXECUTE format('ALTER TABLE govdata.audit_records DETACH PARTITION govdata.%I', part);
  EXECUTE format('DROP TABLE govdata.%I', part);
  RETURN dropped;
END
$$;

DROP TRIGGER IF EXISTS audit_continue ON govdata.audit_records;
CREATE TRIGGER audit_continue BEFORE INSERT ON govdata.audit_records
  FOR EACH ROW EXECUTE FUNCTION govdata.audit_continue();
DROP TRIGGER IF EXISTS audit_advance ON govdata.audit_records;
CREATE TRIGGER audit_advance AFTER INSERT ON govdata.audit_records
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION govdata.audit_advance();
DROP TRIGGER IF EXISTS audit_no_change ON govdata.audit_records;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON govdata.audit_records
  FOR EACH ROW EXECUTE FUNCTION govdata.refuse_change();
DROP TRIGGER IF EXISTS audit_no_truncate ON govdata.audit_records;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON govdata.audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change();

DROP TRIGGER IF EXISTS node_advance_only ON govdata.audit_nodes;
CREATE TRIGGER node_advance_only BEFORE UPDATE ON govdata.audit_nodes
  FOR EACH ROW EXECUTE FUNCTION govdata.node_advance_only();
DROP TRIGGER IF EXISTS node_no_delete ON govdata.audit_nodes;
CREATE TRIGGER node_no_delete BEFORE DELETE ON govdata.audit_nodes
  FOR EACH ROW EXECUTE FUNCTION govdata.refuse_change();
DROP TRIGGER IF EXISTS node_no_truncate ON govdata.audit_nodes;
CREATE TRIGGER node_no_truncate BEFORE TRUNCATE ON govdata.audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change();

-- Makes a table append-only: UPDATE, DELETE and TRUNCATE refused by triggers.
CREATE OR REPLACE FUNCTION govdata.make_append_only(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP TRIGGER IF EXISTS no_change ON %s', t);
  EXECUTE format('CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION govdata.refuse_change()', t);
  EXECUTE format('DROP TRIGGER IF EXISTS no_truncate ON %s', t);
  EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change()', t);
END
$$;

SELECT govdata.make_append_only(t)
  FROM unnest(ARRAY['govdata.audit_seals', 'govdata.audit_backups', 'govdata.audit_horizons']::regclass[]) AS t;

-- Existing partitions (made before this version) get their TRUNCATE trigger too.
DO $$
DECLARE
  p text;
BEGIN
  FOR p IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'govdata.audit_records'::regclass LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS audit_no_truncate ON govdata.%I', p);
    EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON govdata.%I FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change()', p);
    EXECUTE format('REVOKE ALL ON govdata.%I FROM PUBLIC', p);
  END LOOP;
END
$$;

-- Privileges: nothing for PUBLIC; the shipper inserts; the reader reads; retention
-- goes through its functions only.
REVOKE ALL ON SCHEMA govdata FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA govdata FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA govdata FROM PUBLIC;
GRANT USAGE ON SCHEMA govdata TO govdata_shipper, govdata_retention, govdata_reader;

REVOKE ALL ON ALL TABLES IN SCHEMA govdata FROM govdata_shipper, govdata_retention, govdata_reader;
GRANT INSERT ON govdata.audit_records, govdata.audit_seals TO govdata_shipper;
-- ON CONFLICT reads the columns of its arbiter index.
GRANT SELECT (node_id, seq, month) ON govdata.audit_records TO govdata_shipper;
GRANT SELECT (node_id, segment) ON govdata.audit_seals TO govdata_shipper;
GRANT SELECT, INSERT ON govdata.audit_nodes TO govdata_shipper;
GRANT SELECT ON govdata.schema_version TO govdata_shipper;
GRANT EXECUTE ON FUNCTION govdata.ensure_month(date) TO govdata_shipper;

GRANT SELECT ON ALL TABLES IN SCHEMA govdata TO govdata_reader;

GRANT SELECT ON govdata.audit_backups, govdata.audit_horizons, govdata.schema_version TO govdata_retention;
GRANT EXECUTE ON FUNCTION govdata.record_backup(date, text, text, timestamptz) TO govdata_retention;
GRANT EXECUTE ON FUNCTION govdata.drop_month(date) TO govdata_retention;

INSERT INTO govdata.schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;
