-- Secret rotation: the secret a rotation replaced keeps signing deliveries (beside the new one,
-- in the same webhook-signature header) until previous_secret_expires_at, so receivers can
-- switch without losing a delivery. Encrypted like secret_ciphertext.
ALTER TABLE webhook_endpoints
  ADD COLUMN previous_secret_ciphertext bytea,
  ADD COLUMN previous_secret_expires_at timestamptz,
  ADD CONSTRAINT webhook_endpoints_previous_secret_check
    CHECK ((previous_secret_ciphertext IS NULL) = (previous_secret_expires_at IS NULL));
