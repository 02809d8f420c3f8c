-- Revocation everywhere (issue 10): every token carries its client's token_version (claim `ver`). Disabling a
-- client or changing its secret raises the version, so every token issued before is refused by every service
-- (ingest's revocation list, common/revocation.py). A trigger, so an operator's plain UPDATE counts too, and
-- enabling the client again never revives its old tokens.
ALTER TABLE clients ADD COLUMN token_version int NOT NULL DEFAULT 1 CHECK (token_version > 0);

CREATE FUNCTION clients_revoke_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.disabled AND NOT OLD.disabled) OR NEW.secret_hash IS DISTINCT FROM OLD.secret_hash THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER clients_revoke_tokens BEFORE UPDATE OF disabled, secret_hash ON clients
    FOR EACH ROW EXECUTE FUNCTION clients_revoke_tokens();
