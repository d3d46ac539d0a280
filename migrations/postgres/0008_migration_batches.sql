-- A model migration (`relay provider migrate`, issue #27 item 3) is a batch kind of its own:
-- `model_migration`, the name its batches already carried in `options.kind` (0006 allowed only
-- import|rotation, so they were stored, listed and shown as an `import`). The value moves from the
-- options into the column.
ALTER TABLE import_batches DROP CONSTRAINT import_batches_kind_check;
ALTER TABLE import_batches ADD CONSTRAINT import_batches_kind_check
  CHECK (kind IN ('import', 'rotation', 'model_migration'));
UPDATE import_batches SET kind = 'model_migration'
  WHERE (options::jsonb) ->> 'kind' = 'model_migration';
