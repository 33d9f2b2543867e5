-- Following the store (govdata audit watch) and looking across nodes (govdata audit
-- query --store). Applied by `govdata store init` after schema.sql, in the same
-- transaction; idempotent.

-- A committed insert of a node's records notifies the channel `govdata_audit` with the
-- node id. Notifications of one transaction with the same payload are delivered once,
-- so a batch of a node is one notification. A watcher takes a notification as a wake-up
-- only and reads the rows after the last (node, seq) it saw, so that a notification
-- lost while it was disconnected loses no record.
CREATE OR REPLACE FUNCTION govdata.audit_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, govdata AS $$
BEGIN
  PERFORM pg_notify('govdata_audit', NEW.node_id);
  RETURN NULL;
END
$$;

-- After the chain trigger: a record it skips (the same record again) notifies nothing.
DROP TRIGGER IF EXISTS audit_notify ON govdata.audit_records;
CREATE TRIGGER audit_notify AFTER INSERT ON govdata.audit_records
  FOR EACH ROW EXECUTE FUNCTION govdata.audit_notify();

-- The query columns of govdata audit query --store.
CREATE INDEX IF NOT EXISTS audit_records_department ON govdata.audit_records (department, time);
CREATE INDEX IF NOT EXISTS audit_records_dataset ON govdata.audit_records (resource_id, time);
CREATE INDEX IF NOT EXISTS audit_records_node_time ON govdata.audit_records (node_id, time);

REVOKE ALL ON FUNCTION govdata.audit_notify() FROM PUBLIC;
