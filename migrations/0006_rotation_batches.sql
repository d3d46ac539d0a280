-- Key rotation in place (issue #28 item 2): a rotation is a batch in the ledger like an import;
-- `kind` tells them apart (rollback and recovery treat a rotation differently: it created nothing).
ALTER TABLE import_batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'import' CHECK (kind IN ('import', 'rotation'));
