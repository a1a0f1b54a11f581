// Package revocation keeps a service's access-token revocation list
// (auth.Revocations, checked by its auth.Verifier on every request) current,
// so that a disabled or demoted user's tokens are refused by every service
// within seconds rather than when they expire.
//
// Identity raises a user's token generation when it disables, re-enables or
// changes the role of the account, and says so twice:
//
//   - at once, on the Redis channel auth.revocations (Publish), which every
//     replica of every service follows (Feed.Run): the fast path;
//   - durably, as USER_DISABLED, USER_ENABLED or USER_ROLE_CHANGED on
//     identity.events, which each service consumes with a consumer group of
//     its own (Feed.Register) into its own database (token_revocations),
//     and every replica reads that table at start-up and every second.
//
// Either path alone refuses the tokens: Redis down costs the event path's
// latency (under a second or two), never the revocation. The table makes the
// list survive a restart even when the events are gone from the topic
// (expired or compacted). Applying an entry keeps the highest generation
// per user, so the paths may deliver in any order, and twice.
package revocation

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records which revocation migrations ran.
const MigrationsTable = "revocation_schema_migrations"

// Migrations returns the SQL migrations of the token_revocations table, to
// run with database.Migrate under MigrationsTable.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at compile time
	}
	return sub
}

// Channel is the Redis channel identity publishes revocations on.
const Channel = "auth.revocations"

// Defaults of Feed.
const (
	// DefaultReload is how often a replica reads the table again: the
	// latency of the event path for the replicas whose consumer did not
	// handle the event (the one that did applies it on commit).
	DefaultReload = time.Second
	// pruneEvery spaces the deletions of expired rows.
	pruneEvery = time.Minute
)

// Types are the identity.events types that carry a token generation.
var Types = []string{eventsv1.TypeUserDisabled, eventsv1.TypeUserEnabled, eventsv1.TypeUserRoleChanged}

// FromEvent returns the revocation an identity event carries. ok is false
// when it carries none: another event type, or a producer older than the
// token_generation field (generation 0 refuses nothing).
func FromEvent(e event.Event) (r auth.Revocation, ok bool, err error) {
	var (
		user string
		gen  int64
		at   *timestamppb.Timestamp
	)
	switch e.Type {
	case eventsv1.TypeUserDisabled:
		m, err := event.DecodeAs[*eventsv1.UserDisabled](e)
		if err != nil {
			return auth.Revocation{}, false, err
		}
		user, gen, at = m.GetUserId(), m.GetTokenGeneration(), m.GetAt()
	case eventsv1.TypeUserEnabled:
		m, err := event.DecodeAs[*eventsv1.UserEnabled](e)
		if err != nil {
			return auth.Revocation{}, false, err
		}
		user, gen, at = m.GetUserId(), m.GetTokenGeneration(), m.GetAt()
	case eventsv1.TypeUserRoleChanged:
		m, err := event.DecodeAs[*eventsv1.UserRoleChanged](e)
		if err != nil {
			return auth.Revocation{}, false, err
		}
		user, gen, at = m.GetUserId(), m.GetTokenGeneration(), m.GetAt()
	default:
		return auth.Revocation{}, false, nil
	}
	if gen < 0 {
		return auth.Revocation{}, false, fmt.Errorf("%s %s: negative token generation %d", e.Type, e.ID, gen)
	}
	if gen == 0 {
		return auth.Revocation{}, false, nil
	}
	id, err := uuid.Parse(user)
	if err != nil {
		return auth.Revocation{}, false, fmt.Errorf("%s %s: user ID %q: %w", e.Type, e.ID, user, err)
	}
	when := e.OccurredAt
	if at != nil {
		when = at.AsTime()
	}
	return auth.Revocation{UserID: id.String(), Generation: gen, Until: when.Add(auth.RevocationLifetime)}, true, nil
}

// Feed keeps one replica's revocation list current. Build it with New,
// Load before serving, Register on the service's revocation consumer, and
// Run it beside the consumer.
type Feed struct {
	db     *gorm.DB
	rdb    *redis.Client // nil: no fast path
	list   *auth.Revocations
	log    *slog.Logger
	reload time.Duration
	now    func() time.Time
}

// New returns a Feed of list, stored in db, following Redis rdb (nil: the
// event path only). log may be nil.
func New(db *gorm.DB, rdb *redis.Client, list *auth.Revocations, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{db: db, rdb: rdb, list: list, log: log.With("component", "revocations"),
		reload: DefaultReload, now: time.Now}
}

// List is the list the feed keeps.
func (f *Feed) List() *auth.Revocations { return f.list }

// Load reads the table into the list.
func (f *Feed) Load(ctx context.Context) error {
	var rows []struct {
		UserID     string
		Generation int64
		ExpiresAt  time.Time
	}
	err := f.db.WithContext(ctx).Raw(`SELECT user_id::text AS user_id, generation, expires_at
		FROM token_revocations WHERE expires_at > now()`).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load token revocations: %w", err)
	}
	entries := make([]auth.Revocation, len(rows))
	for i, r := range rows {
		entries[i] = auth.Revocation{UserID: r.UserID, Generation: r.Generation, Until: r.ExpiresAt}
	}
	f.list.Apply(f.now(), entries...)
	return nil
}

// Register makes c (a consumer of identity.events) store every revocation
// in the table, in the transaction that records the event, and apply it to
// the list once that commits.
func (f *Feed) Register(c *consumer.Consumer) {
	for _, t := range Types {
		c.Handle(t, f.handle)
	}
}

func (f *Feed) handle(ctx context.Context, tx *gorm.DB, e event.Event) error {
	r, ok, err := FromEvent(e)
	if err != nil {
		return consumer.Permanent(err)
	}
	if !ok || !f.now().Before(r.Until) {
		return nil // nothing to revoke, or every token it revokes has expired
	}
	if err := Save(ctx, tx, r); err != nil {
		return err
	}
	consumer.AfterCommit(ctx, func() { f.list.Apply(f.now(), r) })
	return nil
}

// Save stores r in the table of db (a transaction, or the database),
// keeping the highest generation of the user.
func Save(ctx context.Context, db *gorm.DB, r auth.Revocation) error {
	err := db.WithContext(ctx).Exec(`INSERT INTO token_revocations (user_id, generation, expires_at)
		VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET generation = excluded.generation, expires_at = excluded.expires_at
		WHERE token_revocations.generation < excluded.generation
		   OR token_revocations.generation = excluded.generation AND token_revocations.expires_at < excluded.expires_at`,
		r.UserID, r.Generation, r.Until).Error
	if err != nil {
		return fmt.Errorf("save token revocation of %s: %w", r.UserID, err)
	}
	return nil
}

// message is a revocation on the Redis channel.
type message struct {
	UserID     string    `json:"user_id"`
	Generation int64     `json:"generation"`
	Until      time.Time `json:"until"`
}

// Publish announces r on the Redis channel, for every replica to apply at
// once. Identity calls it after the change has committed; a failure only
// leaves the revocation to the event path.
func Publish(ctx context.Context, rdb *redis.Client, r auth.Revocation) error {
	b, err := json.Marshal(message(r))
	if err != nil {
		return fmt.Errorf("publish revocation: %w", err)
	}
	if err := rdb.Publish(ctx, Channel, b).Err(); err != nil {
		return fmt.Errorf("publish revocation of %s: %w", r.UserID, err)
	}
	return nil
}

// Run keeps the list current until ctx ends: it applies what arrives on
// the Redis channel, reads the table every second, and deletes expired
// rows every minute. Failures are logged and retried; they never stop the
// service.
func (f *Feed) Run(ctx context.Context) error {
	msgs := make(<-chan *redis.Message)
	if f.rdb != nil {
		ps := f.rdb.Subscribe(ctx, Channel)
		defer ps.Close()
		// The subscription reconnects by itself after a Redis failure;
		// what was published meanwhile arrives through the table.
		msgs = ps.Channel(redis.WithChannelHealthCheckInterval(5 * time.Second))
	}
	reload := time.NewTicker(f.reload)
	defer reload.Stop()
	var lastPrune time.Time
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				msgs = nil // closed: the table alone from now on
				continue
			}
			f.applyMessage(ctx, m.Payload)
		case <-reload.C:
			err := f.Load(ctx)
			if err == nil && time.Since(lastPrune) >= pruneEvery {
				err = f.prune(ctx)
				lastPrune = time.Now()
			}
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				f.log.WarnContext(ctx, "reading the revocation table failed; retrying every second", "error", err.Error())
				failing = true
			case err == nil && failing:
				f.log.InfoContext(ctx, "reading the revocation table works again")
				failing = false
			}
		}
	}
}

// applyMessage applies one message of the channel. Its Until is capped at
// a revocation's lifetime from now: whoever can publish on the channel can
// make tokens be refused for that long at most, and never accepted again
// (the list keeps the highest generation).
func (f *Feed) applyMessage(ctx context.Context, payload string) {
	var m message
	err := json.Unmarshal([]byte(payload), &m)
	if err == nil {
		var id uuid.UUID
		if id, err = uuid.Parse(m.UserID); err == nil {
			m.UserID = id.String()
		}
	}
	if err == nil && m.Generation <= 0 {
		err = errors.New("generation must be positive")
	}
	if err != nil {
		f.log.WarnContext(ctx, "ignoring a malformed message on the revocation channel", "error", err.Error())
		return
	}
	now := f.now()
	r := auth.Revocation(m)
	if longest := now.Add(auth.RevocationLifetime); r.Until.After(longest) {
		r.Until = longest
	}
	f.list.Apply(now, r)
}

func (f *Feed) prune(ctx context.Context) error {
	if err := f.db.WithContext(ctx).Exec(`DELETE FROM token_revocations WHERE expires_at <= now()`).Error; err != nil {
		return fmt.Errorf("prune token revocations: %w", err)
	}
	return nil
}
