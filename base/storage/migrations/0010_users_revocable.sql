-- Users can be revoked (`scada users revoke`): a revoked user's token stops working and
-- their open event streams close.
ALTER TABLE historical.users ADD COLUMN revoked_at timestamptz;
