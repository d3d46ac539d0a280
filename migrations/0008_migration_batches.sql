-- A model migration (`relay provider migrate`, issue #27 item 3) is a batch kind of its own:
-- `model_migration`, the name its batches already carried in `options.kind` (0006 allowed only
-- import|rotation, so they were stored, listed and shown as an `import`). The value moves from the
-- options into the column. SQLite cannot change a CHECK in place, and import_batches is referenced
-- by other tables (a rebuild would have to drop it): the column is replaced instead (a column's own
-- CHECK goes with it when it is dropped).
ALTER TABLE import_batches RENAME COLUMN kind TO kind_0006;
ALTER TABLE import_batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'import'
  CHECK (kind IN ('import', 'rotation', 'model_migration'));
UPDATE import_batches SET kind = CASE
  WHEN json_valid(options) AND json_extract(options, '$.kind') = 'model_migration' THEN 'model_migration'
  ELSE kind_0006 END;
ALTER TABLE import_batches DROP COLUMN kind_0006;
