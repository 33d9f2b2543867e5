-- Signed checkpoints of the store and the tiles of the nodes' Merkle trees that
-- proofs are served from (govdata store checkpoint, govdata store prove). Applied by
-- govdata store init after schema.sql; idempotent. Append-only like the records.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'govdata_checkpointer') THEN
    CREATE ROLE govdata_checkpointer NOLOGIN;
  END IF;
END
$$;

-- One row per checkpoint: the signed JSON as issued.
CREATE TABLE IF NOT EXISTS govdata.store_checkpoints (
  id        bigserial PRIMARY KEY,
  origin    text NOT NULL,
  time      timestamptz NOT NULL,
  key_id    text NOT NULL,
  body      text NOT NULL,
  made_by   text NOT NULL DEFAULT session_user,
  made_at   timestamptz NOT NULL DEFAULT now()
);

-- Per checkpoint and node: the node's tree (as signed) and the Merkle frontier that
-- the next checkpoint resumes from.
CREATE TABLE IF NOT EXISTS govdata.checkpoint_nodes (
  checkpoint_id bigint NOT NULL REFERENCES govdata.store_checkpoints (id),
  node_id       text NOT NULL,
  suite         text NOT NULL CHECK (suite IN ('sha256', 'sm3')),
  first_seq     bigint NOT NULL CHECK (first_seq >= 1),
  size          bigint NOT NULL CHECK (size >= 0),
  root          bytea NOT NULL CHECK (length(root) = 32),
  head          bytea NOT NULL CHECK (length(head) = 32),
  frontier      text NOT NULL,
  PRIMARY KEY (checkpoint_id, node_id)
);

-- The leaves of each node's tree in tiles of 256 (tile t holds the leaves of records
-- first_seq + 256t onwards), with each tile's RFC 6962 root; a partial last tile is
-- written at each checkpoint under its width. Hashes only: retention leaves them, so
-- that old checkpoints stay provable.
CREATE TABLE IF NOT EXISTS govdata.checkpoint_tiles (
  node_id text NOT NULL,
  tile    bigint NOT NULL CHECK (tile >= 0),
  width   integer NOT NULL CHECK (width BETWEEN 1 AND 256),
  leaves  bytea NOT NULL CHECK (length(leaves) = 32 * width),
  root    bytea NOT NULL CHECK (length(root) = 32),
  PRIMARY KEY (node_id, tile, width)
);

SELECT govdata.make_append_only(t)
  FROM unnest(ARRAY['govdata.store_checkpoints', 'govdata.checkpoint_nodes', 'govdata.checkpoint_tiles']::regclass[]) AS t;

-- The checkpointer reads the rows and the nodes' heads and appends checkpoints; the
-- reader (an auditor's proofs) reads them.
REVOKE ALL ON govdata.store_checkpoints, govdata.checkpoint_nodes, govdata.checkpoint_tiles FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA govdata FROM govdata_checkpointer;
GRANT USAGE ON SCHEMA govdata TO govdata_checkpointer;
GRANT SELECT ON govdata.audit_nodes, govdata.audit_records TO govdata_checkpointer;
GRANT SELECT, INSERT ON govdata.store_checkpoints, govdata.checkpoint_nodes, govdata.checkpoint_tiles
  TO govdata_checkpointer;
GRANT USAGE ON SEQUENCE govdata.store_checkpoints_id_seq TO govdata_checkpointer;
GRANT SELECT ON govdata.store_checkpoints, govdata.checkpoint_nodes, govdata.checkpoint_tiles
  TO govdata_reader;
