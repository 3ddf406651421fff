-- A deleted webhook endpoint signs nothing again, so its secrets are erased when it is deleted
-- (webhooks.repository.ts, markEndpointDeleted); here, those of endpoints deleted before that.
-- secret_ciphertext is NOT NULL: an empty value, which opens to nothing.
UPDATE webhook_endpoints
SET secret_ciphertext = '\x'::bytea, previous_secret_ciphertext = NULL, previous_secret_expires_at = NULL
WHERE deleted_at IS NOT NULL;
