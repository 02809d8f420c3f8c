-- A progress report whose `updated_by` is not an active employee of the uploaded list is kept but flagged.
ALTER TABLE progress_state ADD COLUMN reporter_flag text CHECK (reporter_flag IN ('unknown', 'inactive'));
