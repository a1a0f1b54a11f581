-- Users, refresh tokens, the append-only audit log and the signing keys.

-- Substring search of users by email or name (admin search) uses a trigram
-- index; pg_trgm ships with PostgreSQL (contrib) and is allowed on managed
-- services.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL,
    display_name    text NOT NULL,
    role            text NOT NULL,
    password_hash   text NOT NULL,
    disabled_at     timestamptz,
    disabled_reason text NOT NULL DEFAULT '',
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT users_role_check CHECK (role IN ('CUSTOMER', 'SELLER', 'ADMIN')),
    -- The domain normalises; the database makes "unique" mean unique.
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)) AND email <> '')
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_search_trgm ON users USING gin ((email || ' ' || lower(display_name)) gin_trgm_ops);
CREATE INDEX users_role_id ON users (role, id);

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL,            -- SHA-256 of the opaque token; the token is never stored
    access_jti  text NOT NULL,             -- the access token issued with it (finds "this session")
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,               -- exchanged for a new pair; presenting it again is theft
    revoked_at  timestamptz,
    client_ip   text NOT NULL DEFAULT '',
    CONSTRAINT refresh_tokens_hash_len CHECK (octet_length(token_hash) = 32)
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_user_jti ON refresh_tokens (user_id, access_jti);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    action     text NOT NULL,
    actor_id   uuid,                       -- NULL: anonymous (a failed login) or the system (seed)
    user_id    uuid,                       -- NULL: a failed login with an unknown email
    email      text NOT NULL DEFAULT '',
    client_ip  text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_action_at ON audit_log (action, at);

-- Append-only: rows can be inserted, never changed or removed, even by the
-- service's own database user. (A superuser can drop the trigger; the
-- events on identity.events are the copy outside this database.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Access-token signing keys, shared by every replica. A key is used for
-- signing from activates_at until a newer key activates; it is published in
-- the JWKS from its creation (before it signs anything) until the tokens it
-- signed have expired.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,         -- RFC 7638 thumbprint of the public key
    algorithm    text NOT NULL,
    public_key   bytea NOT NULL,
    private_key  bytea NOT NULL,           -- Ed25519 seed, AES-256-GCM sealed when a key-encryption key is configured
    encryption   text NOT NULL,
    source       text NOT NULL,
    created_at   timestamptz NOT NULL,
    activates_at timestamptz NOT NULL,
    CONSTRAINT signing_keys_algorithm CHECK (algorithm = 'EdDSA'),
    CONSTRAINT signing_keys_encryption CHECK (encryption IN ('none', 'aes-256-gcm')),
    CONSTRAINT signing_keys_source CHECK (source IN ('generated', 'file'))
);
CREATE INDEX signing_keys_activates ON signing_keys (activates_at);
