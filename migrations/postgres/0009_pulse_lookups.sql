-- SQLite clusters invitations and participation by their keys in this
-- version (see migrations/sqlite/0009_pulse_lookups.sql). PostgreSQL keeps
-- its heap tables and primary-key indexes: nothing changes here.
SELECT 1;
