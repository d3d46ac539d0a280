-- Since this version a pack's key_pattern is checked for catastrophic backtracking (ReDoS) when the
-- pack is installed, and the provider row says so. Rows from before carry 0: an import checks their
-- pattern itself, which loads the checker (~70 MB, ~70 ms); rows written since carry 1 and imports
-- rely on the install's verdict.
ALTER TABLE providers ADD COLUMN key_pattern_checked INTEGER NOT NULL DEFAULT 0 CHECK (key_pattern_checked IN (0, 1));
