-- The live inventory and the signed policy bundles of the platform store (govdata
-- store init, after schema.sql, in the same transaction). Idempotent: run it again to
-- migrate.

-- Roles without login: `govdata_node` reads the inventory and the bundles (every node
-- that takes them from the store), `govdata_inventory_admin` changes the inventory
-- (govdata inventory push), `govdata_publisher` publishes bundles (govdata bundle
-- publish).
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['govdata_node', 'govdata_inventory_admin', 'govdata_publisher'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      -- Roles are the cluster's: another database's init may make it meanwhile.
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END
$$;

-- The inventory's version: raised once by every transaction that changes any of its
-- tables (a trigger does it, whoever writes), and announced on the channel
-- `govdata_inventory` when that transaction commits. A node compares it with the
-- version it loaded.
CREATE TABLE IF NOT EXISTS govdata.inventory_state (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version    bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
  changed_tx xid8,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL DEFAULT session_user
);
INSERT INTO govdata.inventory_state (singleton) VALUES (true) ON CONFLICT DO NOTHING;

-- One table per kind of record, each row the record as the inventory file holds it.
-- The references are columns taken out of the record, with foreign keys checked when
-- the transaction commits: a change that leaves a dangling reference is refused
-- whole, even when written by hand.
CREATE TABLE IF NOT EXISTS govdata.inventory_departments (
  id     text PRIMARY KEY CHECK (id <> ''),
  record jsonb NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record->>'id' = id),
  parent text GENERATED ALWAYS AS (record->>'parent') STORED
         REFERENCES govdata.inventory_departments (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS govdata.inventory_vendors (
  id     text PRIMARY KEY CHECK (id <> ''),
  record jsonb NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record->>'id' = id)
);

CREATE TABLE IF NOT EXISTS govdata.inventory_users (
  id         text PRIMARY KEY CHECK (id <> ''),
  record     jsonb NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record->>'id' = id),
  department text GENERATED ALWAYS AS (record->>'department') STORED NOT NULL
             REFERENCES govdata.inventory_departments (id) DEFERRABLE INITIALLY DEFERRED,
  vendor     text GENERATED ALWAYS AS (record->>'vendor') STORED
             REFERENCES govdata.inventory_vendors (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS govdata.inventory_datasets (
  id     text PRIMARY KEY CHECK (id <> ''),
  record jsonb NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record->>'id' = id),
  owner  text GENERATED ALWAYS AS (record->>'owner') STORED NOT NULL
         REFERENCES govdata.inventory_departments (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE IF NOT EXISTS govdata.inventory_systems (
  id     text PRIMARY KEY CHECK (id <> ''),
  record jsonb NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record->>'id' = id),
  owner  text GENERATED ALWAYS AS (record->>'owner') STORED NOT NULL
         REFERENCES govdata.inventory_departments (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX IF NOT EXISTS inventory_departments_parent ON govdata.inventory_departments (parent);
CREATE INDEX IF NOT EXISTS inventory_users_department ON govdata.inventory_users (department);
CREATE INDEX IF NOT EXISTS inventory_users_vendor ON govdata.inventory_users (vendor);
CREATE INDEX IF NOT EXISTS inventory_datasets_owner ON govdata.inventory_datasets (owner);
CREATE INDEX IF NOT EXISTS inventory_systems_owner ON govdata.inventory_systems (owner);

-- Raises the version once per transaction and announces it at commit.
CREATE OR REPLACE FUNCTION govdata.inventory_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE govdata.inventory_state
     SET version = version + 1, changed_tx = pg_current_xact_id(), changed_at = now(),
         changed_by = session_user
   WHERE singleton AND changed_tx IS DISTINCT FROM pg_current_xact_id()
   RETURNING version INTO v;
  IF FOUND THEN
    PERFORM pg_notify('govdata_inventory', v::text);
  END IF;
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['inventory_departments', 'inventory_vendors', 'inventory_users',
                           'inventory_datasets', 'inventory_systems'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS inventory_changed ON govdata.%I', t);
    EXECUTE format('CREATE TRIGGER inventory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON govdata.%I FOR EACH STATEMENT EXECUTE FUNCTION govdata.inventory_changed()', t);
  END LOOP;
END
$$;

-- The version moves forward only, and only through the trigger above.
CREATE OR REPLACE FUNCTION govdata.inventory_version_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version <> OLD.version + 1 THEN
    RAISE EXCEPTION 'govdata: the inventory version moves forward by one' USING ERRCODE = 'GD110';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS inventory_version_forward ON govdata.inventory_state;
CREATE TRIGGER inventory_version_forward BEFORE UPDATE ON govdata.inventory_state
  FOR EACH ROW EXECUTE FUNCTION govdata.inventory_version_forward();

-- Every signed bundle published, kept: the history. The node verifies each itself;
-- the store only keeps the versions rising (a bundle not above every one published
-- is refused) and announces each on the channel `govdata_bundles`.
CREATE TABLE IF NOT EXISTS govdata.policy_bundles (
  id             bigserial PRIMARY KEY,
  version        bigint NOT NULL CHECK (version >= 0),
  policy_version text NOT NULL,
  created        timestamptz NOT NULL,
  expires        timestamptz NOT NULL,
  key_ids        text[] NOT NULL,
  sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  bundle         text NOT NULL,
  published_by   text NOT NULL DEFAULT session_user,
  published_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS policy_bundles_version ON govdata.policy_bundles (version);

CREATE OR REPLACE FUNCTION govdata.bundle_rising() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, govdata AS $$
DECLARE
  newest bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('govdata.policy_bundles'));
  SELECT max(version) INTO newest FROM govdata.policy_bundles;
  IF newest IS NOT NULL AND NEW.version <= newest THEN
    RAISE EXCEPTION 'govdata: bundle version % is not above version %, the newest published', NEW.version, newest
      USING ERRCODE = 'GD111';
  END IF;
  NEW.published_by := session_user;
  NEW.published_at := now();
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION govdata.bundle_published() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('govdata_bundles', NEW.id::text);
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION govdata.bundle_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'govdata: % on %.% is refused: published bundles are kept as published',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'GD100';
END
$$;

DROP TRIGGER IF EXISTS bundle_rising ON govdata.policy_bundles;
CREATE TRIGGER bundle_rising BEFORE INSERT ON govdata.policy_bundles
  FOR EACH ROW EXECUTE FUNCTION govdata.bundle_rising();
DROP TRIGGER IF EXISTS bundle_published ON govdata.policy_bundles;
CREATE TRIGGER bundle_published AFTER INSERT ON govdata.policy_bundles
  FOR EACH ROW EXECUTE FUNCTION govdata.bundle_published();
DROP TRIGGER IF EXISTS bundle_no_change ON govdata.policy_bundles;
CREATE TRIGGER bundle_no_change BEFORE UPDATE OR DELETE ON govdata.policy_bundles
  FOR EACH ROW EXECUTE FUNCTION govdata.bundle_kept();
DROP TRIGGER IF EXISTS bundle_no_truncate ON govdata.policy_bundles;
CREATE TRIGGER bundle_no_truncate BEFORE TRUNCATE ON govdata.policy_bundles
  FOR EACH STATEMENT EXECUTE FUNCTION govdata.bundle_kept();

-- Privileges: nodes read; the inventory's administrators change the inventory's
-- tables; publishers add bundles; the reader reads everything.
REVOKE ALL ON govdata.inventory_state, govdata.inventory_departments, govdata.inventory_vendors,
  govdata.inventory_users, govdata.inventory_datasets, govdata.inventory_systems,
  govdata.policy_bundles FROM PUBLIC;
REVOKE ALL ON FUNCTION govdata.inventory_changed(), govdata.inventory_version_forward(),
  govdata.bundle_rising(), govdata.bundle_published(), govdata.bundle_kept() FROM PUBLIC;
GRANT USAGE ON SCHEMA govdata TO govdata_node, govdata_inventory_admin, govdata_publisher;

GRANT SELECT ON govdata.inventory_state, govdata.inventory_departments, govdata.inventory_vendors,
  govdata.inventory_users, govdata.inventory_datasets, govdata.inventory_systems,
  govdata.policy_bundles TO govdata_node, govdata_reader;
GRANT SELECT ON govdata.inventory_state TO govdata_inventory_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON govdata.inventory_departments, govdata.inventory_vendors,
  govdata.inventory_users, govdata.inventory_datasets, govdata.inventory_systems
  TO govdata_inventory_admin;
GRANT SELECT, INSERT ON govdata.policy_bundles TO govdata_publisher;
GRANT USAGE ON SEQUENCE govdata.policy_bundles_id_seq TO govdata_publisher;
