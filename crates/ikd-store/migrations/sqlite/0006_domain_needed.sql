-- Why a domain has no score, SQLite. Keep in step with ../postgres/0006_domain_needed.sql.
--
-- needed: the answers the instrument's missing-data rule needed for a score, given the items
-- that applied to the respondent (0: none applied). With answered it tells "answered 2 of the
-- 3 needed" for a domain without a score. NULL for results stored before this migration: their
-- reason is not known, and is not guessed.

ALTER TABLE result_domains ADD COLUMN needed INTEGER;
