-- Listener registrations are ephemeral (a relay re-registers whenever it
-- goes idle), so they need no WAL: registering and unregistering then cost
-- no disk flush. After a crash PostgreSQL empties the table, which is right.
ALTER TABLE outbox_listeners SET UNLOGGED;
