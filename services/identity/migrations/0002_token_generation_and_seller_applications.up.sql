-- The token generation of each user, signed into its access tokens (the
-- `gen` claim): disabling, re-enabling and a role change raise it, and every
-- service refuses the user's tokens of a lower generation.
ALTER TABLE users ADD COLUMN token_generation bigint NOT NULL DEFAULT 0
    CONSTRAINT users_token_generation_check CHECK (token_generation >= 0);

-- Applications for a seller account: self-registration makes a CUSTOMER, and
-- an administrator turns an application into the SELLER role (or rejects it).
CREATE TABLE seller_applications (
    id              uuid PRIMARY KEY,      -- UUIDv7: the list's order is the filing order
    user_id         uuid NOT NULL REFERENCES users (id),
    status          text NOT NULL,
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    decided_by      uuid REFERENCES users (id),
    decision_reason text NOT NULL DEFAULT '',
    CONSTRAINT seller_applications_status_check CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    CONSTRAINT seller_applications_decided CHECK ((status = 'PENDING') = (decided_at IS NULL))
);
-- At most one pending application per user.
CREATE UNIQUE INDEX seller_applications_one_pending ON seller_applications (user_id) WHERE status = 'PENDING';
CREATE INDEX seller_applications_status_id ON seller_applications (status, id);
CREATE INDEX seller_applications_user_id ON seller_applications (user_id, id);
