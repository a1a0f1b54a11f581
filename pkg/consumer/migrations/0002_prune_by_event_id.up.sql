-- Old rows are pruned by a range of the primary key: event IDs are UUIDv7,
-- ordered by creation time (Consumer.Prune). The index on processed_at is
-- no longer read, and cost every handled event an index entry.
DROP INDEX processed_events_processed_at;
