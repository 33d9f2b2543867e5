-- The procedures shared by every node (Art. 14, 15): applied by `govdata store init`
-- after schema.sql, in the same transaction. Idempotent: run it again to migrate.
--
-- A request is one row of procedure_requests holding the request as the procedures
-- see it (JSON) and its status; each transition is one row of procedure_steps holding
-- the audit record the acting node wrote for it (node id and sequence number in that
-- node's log, and the event). A node takes a step in one transaction: it locks the
-- request row (SELECT … FOR UPDATE), decides and records the step in its own log,
-- inserts the step, takes the next change number from procedure_head and writes the
-- request's new state. The head's row lock makes change numbers follow commit order,
-- so a node that has read every change up to n has missed none below it. Every change
-- notifies the channel `govdata_procedures` (at commit).

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'govdata_procedures') THEN
    CREATE ROLE govdata_procedures NOLOGIN;
  END IF;
END
$$;

CREATE SEQUENCE IF NOT EXISTS govdata.sharing_numbers;
CREATE SEQUENCE IF NOT EXISTS govdata.destruction_numbers;

-- The last change number: one row, moved by one in every transaction that stores a
-- step (and only so).
CREATE TABLE IF NOT EXISTS govdata.procedure_head (
  one    boolean PRIMARY KEY DEFAULT true CHECK (one),
  change bigint NOT NULL CHECK (change >= 0)
);
INSERT INTO govdata.procedure_head (one, change) VALUES (true, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS govdata.procedure_requests (
  id         text PRIMARY KEY CHECK (id ~ '^(shr|dst)-[0-9]{6,}$'),
  procedure  text NOT NULL CHECK (procedure IN ('sharing', 'destruction')),
  dataset    text NOT NULL,
  status     text NOT NULL,
  steps      integer NOT NULL CHECK (steps >= 1),
  change     bigint NOT NULL,
  request    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((procedure = 'sharing') = (id LIKE 'shr-%')),
  CHECK (request ->> 'id' = id AND request ->> 'dataset' = dataset)
);
CREATE INDEX IF NOT EXISTS procedure_requests_change ON govdata.procedure_requests (change);
-- At most one open destruction of a dataset (Art. 15).
CREATE UNIQUE INDEX IF NOT EXISTS procedure_one_open_destruction
  ON govdata.procedure_requests (dataset)
  WHERE procedure = 'destruction' AND status IN ('requested', 'approved');

CREATE TABLE IF NOT EXISTS govdata.procedure_steps (
  request_id   text NOT NULL,
  step         integer NOT NULL CHECK (step >= 1),
  change       bigint NOT NULL,
  kind         text NOT NULL CHECK (kind ~ '^(sharing|destruction)\.'),
  node_id      text NOT NULL,
  seq          bigint NOT NULL CHECK (seq >= 1),
  decision_seq bigint,
  user_id      text,
  time         timestamptz NOT NULL,
  event        jsonb NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, step),
  UNIQUE (node_id, seq)
);
CREATE INDEX IF NOT EXISTS procedure_steps_change ON govdata.procedure_steps (change);

-- A request's state moves only with a step stored in the same change: a new request
-- comes with its steps 1..n, a moved one with its next steps, under a larger change.
CREATE OR REPLACE FUNCTION govdata.procedure_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head bigint;
  last integer;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.id <> OLD.id OR NEW.procedure <> OLD.procedure
       OR NEW.dataset <> OLD.dataset OR NEW.created_at <> OLD.created_at
       OR NEW.steps <= OLD.steps OR NEW.change <= OLD.change) THEN
    RAISE EXCEPTION 'govdata: request % may only move forward, with new steps', OLD.id
      USING ERRCODE = 'GD110';
  END IF;
  SELECT change INTO head FROM govdata.procedure_head;
  SELECT max(step) INTO last FROM govdata.procedure_steps WHERE request_id = NEW.id;
  IF NEW.change <> head OR last IS DISTINCT FROM NEW.steps
     OR NOT EXISTS (SELECT 1 FROM govdata.procedure_steps
                    WHERE request_id = NEW.id AND step = NEW.steps AND change = NEW.change) THEN
    RAISE EXCEPTION 'govdata: request % does not come with its steps under the current change', NEW.id
      USING ERRCODE = 'GD110';
  END IF;
  RETURN NEW;
END
$$;

-- The head moves by one at a time.
CREATE OR REPLACE FUNCTION govdata.procedure_head_advance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.change <> OLD.change + 1 THEN
    RAISE EXCEPTION 'govdata: the procedures'' change number moves by one' USING ERRCODE = 'GD110';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION govdata.procedure_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('govdata_procedures', NEW.change::text);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS procedure_moves ON govdata.procedure_requests;
CREATE TRIGGER procedure_moves BEFORE INSERT OR UPDATE ON govdata.procedure_requests
  FOR EACH ROW EXECUTE FUNCTION govdata.procedure_moves();
DROP TRIGGER IF EXISTS procedure_notify ON govdata.procedure_requests;
CREATE TRIGGER procedure_notify AFTER INSERT OR UPDATE ON govdata.procedure_requests
  FOR EACH ROW EXECUTE FUNCTION govdata.procedure_notify();
DROP TRIGGER IF EXISTS head_advance ON govdata.procedure_head;
CREATE TRIGGER head_advance BEFORE UPDATE ON govdata.procedure_head
  FOR EACH ROW EXECUTE FUNCTION govdata.procedure_head_advance();

-- Steps are never changed; requests and the head are never deleted.
DO $$
DECLARE
  t text;
  refused text;
BEGIN
  FOREACH t IN ARRAY ARRAY['procedure_steps', 'procedure_requests', 'procedure_head'] LOOP
    refused := CASE WHEN t = 'procedure_steps' THEN 'UPDATE OR DELETE' ELSE 'DELETE' END;
    EXECUTE format('DROP TRIGGER IF EXISTS no_change ON govdata.%I', t);
    EXECUTE format('CREATE TRIGGER no_change BEFORE %s ON govdata.%I FOR EACH ROW EXECUTE FUNCTION govdata.refuse_change()', refused, t);
    EXECUTE format('DROP TRIGGER IF EXISTS no_truncate ON govdata.%I', t);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON govdata.%I FOR EACH STATEMENT EXECUTE FUNCTION govdata.refuse_change()', t);
  END LOOP;
END
$$;

-- Privileges: the procedures' role reads the requests, locks and moves them, inserts
-- steps and takes numbers; it may not update or delete a step, nor delete a request.
-- (schema.sql revoked everything in the schema from PUBLIC first.)
GRANT USAGE ON SCHEMA govdata TO govdata_procedures;
REVOKE ALL ON govdata.procedure_head, govdata.procedure_requests, govdata.procedure_steps
  FROM govdata_procedures;
GRANT SELECT, UPDATE ON govdata.procedure_head TO govdata_procedures;
GRANT SELECT, INSERT, UPDATE ON govdata.procedure_requests TO govdata_procedures;
GRANT SELECT, INSERT ON govdata.procedure_steps TO govdata_procedures;
GRANT USAGE ON SEQUENCE govdata.sharing_numbers, govdata.destruction_numbers TO govdata_procedures;
GRANT SELECT ON govdata.procedure_head, govdata.procedure_requests, govdata.procedure_steps
  TO govdata_reader;
