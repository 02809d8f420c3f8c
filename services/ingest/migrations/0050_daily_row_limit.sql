-- Seed 000's `dailyLimit: 10000` (beside `batchSize`): contract lines a client may send per China day.
ALTER TABLE clients ADD COLUMN rows_per_day int NOT NULL DEFAULT 10000 CHECK (rows_per_day > 0);
