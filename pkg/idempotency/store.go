package idempotency

import (
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records which idempotency migrations ran.
const MigrationsTable = "idempotency_schema_migrations"

// Migrations returns the SQL migrations of the idempotency_keys table, to run
// with database.Migrate under MigrationsTable.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at compile time
	}
	return sub
}

// claimAttempts bounds the rounds of claim when the record changes under it
// (deleted, expired or taken over between two statements).
const claimAttempts = 3

// Store keeps idempotency records in PostgreSQL. It is safe for concurrent
// use, and replicas sharing the database share the records.
type Store struct {
	db  *gorm.DB
	cfg Config
	m   *metrics
}

// NewStore returns a Store over db, whose schema Migrations creates. Its
// counter is registered with reg (nil skips registration). It refuses a
// Secret shorter than MinSecretBytes.
func NewStore(db *gorm.DB, cfg Config, reg prometheus.Registerer) (*Store, error) {
	if len(cfg.Secret) < MinSecretBytes {
		return nil, fmt.Errorf("idempotency: the fingerprint secret must be at least %d bytes, got %d", MinSecretBytes, len(cfg.Secret))
	}
	cfg.setDefaults()
	return &Store{db: db, cfg: cfg, m: newMetrics(reg, cfg.Logger)}, nil
}

// outcome is what claim found; its name labels the metric.
type outcome string

const (
	outcomeFirst     outcome = "first"      // recorded now: run the handler
	outcomeTakenOver outcome = "taken_over" // the holder's lock expired: run the handler
	outcomeReplayed  outcome = "replayed"   // completed: replay the response
	outcomeConflict  outcome = "conflict"   // in flight elsewhere: 409
	outcomeMismatch  outcome = "mismatch"   // another request used the key: 422
)

// response is a stored answer.
type response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// claim is the result of claiming a key. When the caller holds the key
// (first, taken over), token fences its later complete or release: a holder
// whose lock was taken over can no longer change the record.
type claim struct {
	outcome outcome
	token   time.Time
	resp    response
	stored  []byte // the record's request_hash as lookup read it
}

// lockRow receives locked_until from a RETURNING clause.
type lockRow struct {
	LockedUntil time.Time
}

// recordRow is a live (unexpired) record.
type recordRow struct {
	RequestHash     []byte
	HashVersion     int16
	State           string
	ResponseStatus  *int
	ResponseHeaders []byte
	ResponseBody    []byte
	LockExpired     bool
}

const (
	stateInFlight  = "in_flight"
	stateCompleted = "completed"
)

// claim records (scope, key) as in flight for a request with fingerprint
// fp, or reports why it cannot. An expired record counts as absent and is
// replaced in the same statement; an in-flight record whose lock expired is
// taken over by one caller only (and fingerprinted again, keyed).
func (s *Store) claim(ctx context.Context, scope, key string, fp *fingerprint) (claim, error) {
	db := s.db.WithContext(ctx)
	for range claimAttempts {
		// Inserts, or replaces an expired record; a live record is left
		// alone (ON CONFLICT ... DO UPDATE ... WHERE is the atomic form of
		// DO NOTHING plus "or it expired").
		var ins []lockRow
		res := db.Raw(`
			INSERT INTO idempotency_keys AS k (scope, key, request_hash, hash_version, state, locked_until, expires_at)
			VALUES (?, ?, ?, ?, 'in_flight', now() + make_interval(secs => ?), now() + make_interval(secs => ?))
			ON CONFLICT (scope, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, hash_version = EXCLUDED.hash_version, state = EXCLUDED.state,
			    locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at,
			    response_status = NULL, response_headers = NULL, response_body = NULL,
			    created_at = now()
			WHERE k.expires_at <= now()
			RETURNING locked_until`,
			scope, key, fp.keyed, hashKeyed, s.cfg.LockTimeout.Seconds(), s.cfg.TTL.Seconds()).Scan(&ins)
		if res.Error != nil {
			return claim{}, fmt.Errorf("idempotency: record key: %w", res.Error)
		}
		if len(ins) == 1 {
			return claim{outcome: outcomeFirst, token: ins[0].LockedUntil}, nil
		}

		cl, found, lockExpired, err := s.lookup(ctx, scope, key, fp)
		switch {
		case err != nil:
			return claim{}, err
		case !found:
			continue // deleted (a 5xx) or expired since the insert: try again
		case !lockExpired:
			return cl, nil
		}

		// The record is this request's (lookup compared the fingerprints
		// under the record's version); the UPDATE checks it still holds
		// what lookup read, and writes the keyed fingerprint.
		var took []lockRow
		res = db.Raw(`
			UPDATE idempotency_keys
			SET locked_until = now() + make_interval(secs => ?), request_hash = ?, hash_version = ?
			WHERE scope = ? AND key = ? AND state = 'in_flight' AND locked_until < now()
			  AND expires_at > now() AND request_hash = ?
			RETURNING locked_until`,
			s.cfg.LockTimeout.Seconds(), fp.keyed, hashKeyed, scope, key, cl.stored).Scan(&took)
		if res.Error != nil {
			return claim{}, fmt.Errorf("idempotency: take over key: %w", res.Error)
		}
		if len(took) == 1 {
			return claim{outcome: outcomeTakenOver, token: took[0].LockedUntil}, nil
		}
		// Another request took it over, or it completed: look again.
	}
	return claim{outcome: outcomeConflict}, nil
}

// lookup reads the live record of (scope, key) and says what a request
// with fingerprint fp gets from it: its stored response (replayed), 422
// (mismatch), or 409 (conflict: in flight, lockExpired telling whether its
// holder's lock has expired). found is false when there is no live record.
func (s *Store) lookup(ctx context.Context, scope, key string, fp *fingerprint) (cl claim, found, lockExpired bool, err error) {
	var rec []recordRow
	err = s.db.WithContext(ctx).Raw(`
		SELECT request_hash, hash_version, state, response_status, response_headers, response_body,
		       coalesce(locked_until < now(), false) AS lock_expired
		FROM idempotency_keys
		WHERE scope = ? AND key = ? AND expires_at > now()`, scope, key).Scan(&rec).Error
	if err != nil {
		return claim{}, false, false, fmt.Errorf("idempotency: read key: %w", err)
	}
	if len(rec) == 0 {
		return claim{}, false, false, nil
	}
	r := rec[0]
	switch {
	case !fp.matches(r.HashVersion, r.RequestHash):
		return claim{outcome: outcomeMismatch}, true, false, nil
	case r.State == stateCompleted:
		resp, err := toResponse(r)
		if err != nil {
			return claim{}, true, false, err
		}
		return claim{outcome: outcomeReplayed, resp: resp}, true, false, nil
	}
	return claim{outcome: outcomeConflict, stored: r.RequestHash}, true, r.LockExpired, nil
}

func toResponse(r recordRow) (response, error) {
	if r.ResponseStatus == nil {
		return response{}, errors.New("idempotency: completed record without a status")
	}
	resp := response{Status: *r.ResponseStatus, Body: r.ResponseBody}
	if len(r.ResponseHeaders) > 0 {
		if err := json.Unmarshal(r.ResponseHeaders, &resp.Header); err != nil {
			return response{}, fmt.Errorf("idempotency: decode stored headers: %w", err)
		}
	}
	return resp, nil
}

// complete stores resp for the key held with token. It reports false when
// the caller no longer holds the key (it was taken over or pruned).
func (s *Store) complete(ctx context.Context, scope, key string, token time.Time, resp response) (bool, error) {
	sql, args, err := completeStatement(scope, key, token, resp)
	if err != nil {
		return false, err
	}
	res := s.db.WithContext(ctx).Exec(sql, args...)
	if res.Error != nil {
		return false, fmt.Errorf("idempotency: complete key: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// completeStatement stores resp for the key held with token; it changes no
// row when the key is no longer held with token.
func completeStatement(scope, key string, token time.Time, resp response) (string, []any, error) {
	headers, body, err := resp.stored()
	if err != nil {
		return "", nil, err
	}
	return `UPDATE idempotency_keys
		SET state = 'completed', locked_until = NULL,
		    response_status = ?, response_headers = ?::jsonb, response_body = ?
		WHERE scope = ? AND key = ? AND state = 'in_flight' AND locked_until = ?`,
		[]any{resp.Status, headers, body, scope, key, token}, nil
}

// stored is r's headers and body as a record keeps them: the headers as
// JSON, and an empty body rather than none.
func (r response) stored() (headers string, body []byte, err error) {
	h, err := json.Marshal(r.Header)
	if err != nil {
		return "", nil, fmt.Errorf("idempotency: encode headers: %w", err)
	}
	if r.Body == nil {
		return string(h), []byte{}, nil // the body of a replay is empty, not unknown
	}
	return string(h), r.Body, nil
}

// storable refuses a body too large to store (Config.MaxResponseBytes),
// for a handler that records its own response.
func (s *Store) storable(body []byte) error {
	if len(body) > s.cfg.MaxResponseBytes {
		return fmt.Errorf("idempotency: a response of %d bytes is larger than MaxResponseBytes", len(body))
	}
	return nil
}

// release deletes the record of the key held with token, so that the next
// request with the key runs afresh. It reports false when the caller no
// longer held the key.
func (s *Store) release(ctx context.Context, scope, key string, token time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`
		DELETE FROM idempotency_keys
		WHERE scope = ? AND key = ? AND state = 'in_flight' AND locked_until = ?`,
		scope, key, token)
	if res.Error != nil {
		return false, fmt.Errorf("idempotency: release key: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Prune deletes expired records, Config.PruneBatch at a time, until none is
// left or ctx ends, and returns how many it deleted. Replicas may prune at
// the same time: each skips the rows another is deleting.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(`
			DELETE FROM idempotency_keys
			WHERE (scope, key) IN (
				SELECT scope, key FROM idempotency_keys
				WHERE expires_at <= now()
				LIMIT ?
				FOR UPDATE SKIP LOCKED)`, s.cfg.PruneBatch)
		if res.Error != nil {
			return total, fmt.Errorf("idempotency: prune: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < int64(s.cfg.PruneBatch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("idempotency: prune: %w", err)
		}
	}
}

// Rekey fingerprints again, under the secret, the records whose
// fingerprint is an unkeyed SHA-256 (written before fingerprints were
// keyed, or by a replica of that release during a rolling upgrade), in
// batches of Config.PruneBatch, and returns how many. Such a record keeps
// working: a retry of its request is compared as HMAC(secret,
// SHA-256(request)), so it is still replayed and another request with its
// key is still 422, until it expires. Replicas may rekey at the same time:
// each skips the rows another holds.
func (s *Store) Rekey(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var rows []struct {
				Scope, Key  string
				RequestHash []byte
			}
			err := tx.Raw(`SELECT scope, key, request_hash FROM idempotency_keys
				WHERE hash_version = ? LIMIT ? FOR UPDATE SKIP LOCKED`, hashUnkeyed, s.cfg.PruneBatch).Scan(&rows).Error
			if err != nil || len(rows) == 0 {
				return err
			}
			scopes := make(database.TextArray, len(rows))
			keys := make(database.TextArray, len(rows))
			hashes := make(database.TextArray, len(rows))
			for i, r := range rows {
				scopes[i], keys[i] = r.Scope, r.Key
				hashes[i] = hex.EncodeToString(rekeyed(s.cfg.Secret, r.RequestHash))
			}
			res := tx.Exec(`UPDATE idempotency_keys AS k SET request_hash = decode(u.hash, 'hex'), hash_version = ?
				FROM unnest(?::text[], ?::text[], ?::text[]) AS u(scope, key, hash)
				WHERE k.scope = u.scope AND k.key = u.key AND k.hash_version = ?`,
				hashRekeyed, scopes, keys, hashes, hashUnkeyed)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return total, fmt.Errorf("idempotency: rekey: %w", err)
		}
		total += n
		if n < int64(s.cfg.PruneBatch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("idempotency: rekey: %w", err)
		}
	}
}
