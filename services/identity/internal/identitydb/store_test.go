package identitydb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/identitydb"
	"github.com/shop-oss/shop/services/identity/migrations"
)

func newStore(t *testing.T) (*identitydb.Store, *gorm.DB) {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	ctx := context.Background()
	if err := database.Migrate(ctx, dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, dsn, outbox.Migrations(), outbox.MigrationsTable); err != nil {
		t.Fatal(err)
	}
	return identitydb.New(db, nil), db
}

func newUser(email string) identity.User {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return identity.User{ID: uuid.Must(uuid.NewV7()), Email: email, DisplayName: "U", Role: identity.RoleCustomer,
		PasswordHash: []byte("$2a$04$hash"), CreatedAt: now, UpdatedAt: now}
}

func count(t *testing.T, db *gorm.DB, query string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(query).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateUserTranslatesDuplicateEmail(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	u := newUser("dup@example.com")
	err := s.InTx(ctx, func(tx identity.Tx) error {
		created, err := tx.CreateUser(ctx, u)
		if !created {
			t.Error("first insert not created")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx identity.Tx) error {
		_, err := tx.CreateUser(ctx, newUser("dup@example.com"))
		return err
	})
	if !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("duplicate email: %v, want ErrEmailTaken", err)
	}
	err = s.InTx(ctx, func(tx identity.Tx) error {
		created, err := tx.CreateUser(ctx, u) // same ID
		if created {
			t.Error("same ID created twice")
		}
		return err
	})
	if err != nil && !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("same ID: %v", err)
	}
	got, err := s.UserByEmail(ctx, "dup@example.com")
	if err != nil || got.ID != u.ID || string(got.PasswordHash) != string(u.PasswordHash) || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("read back %+v, %v", got, err)
	}
	if _, err := s.UserByID(ctx, uuid.Must(uuid.NewV7())); !errors.Is(err, identity.ErrUserNotFound) {
		t.Errorf("unknown ID: %v", err)
	}
}

// The audit log takes inserts only: UPDATE, DELETE and TRUNCATE are
// refused by its triggers.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx identity.Tx) error {
		return tx.Record(ctx, identity.AuditRecord{Action: identity.ActionLoggedOut, At: time.Now(), Email: "a@example.com"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE audit_log SET action = 'forged'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	} {
		err := db.Exec(stmt).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM audit_log"); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
}

// A record writes its audit row and its event together, and a rollback
// takes back both (and the state change) : nothing half-written.
func TestRecordCommitsAuditAndEventWithTheChange(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	u := newUser("rec@example.com")
	rec := identity.AuditRecord{Action: identity.ActionRegistered, At: time.Now(), ActorID: u.ID, UserID: u.ID,
		Email: u.Email, Role: u.Role, ClientIP: "192.0.2.7"}

	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx identity.Tx) error {
		if _, err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.Record(ctx, rec); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT count(*) FROM users", "SELECT count(*) FROM audit_log", "SELECT count(*) FROM outbox"} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s = %d after rollback", q, n)
		}
	}

	err = s.InTx(ctx, func(tx identity.Tx) error {
		if _, err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.Record(ctx, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Topic, MessageKey, EventType string
	}
	if err := db.Raw("SELECT topic, message_key, event_type FROM outbox").Scan(&ev).Error; err != nil {
		t.Fatal(err)
	}
	if ev.Topic != eventsv1.TopicIdentity || ev.MessageKey != u.ID.String() || ev.EventType != eventsv1.TypeUserRegistered {
		t.Errorf("outbox row %+v", ev)
	}
	var a struct {
		Action, Email, ClientIP string
		UserID                  uuid.UUID
		Details                 string
	}
	if err := db.Raw("SELECT action, email, client_ip, user_id, details::text AS details FROM audit_log").Scan(&a).Error; err != nil {
		t.Fatal(err)
	}
	if a.Action != "USER_REGISTERED" || a.UserID != u.ID || a.ClientIP != "192.0.2.7" || !strings.Contains(a.Details, `"role": "CUSTOMER"`) {
		t.Errorf("audit row %+v", a)
	}

	// Audit-only actions write no event.
	err = s.InTx(ctx, func(tx identity.Tx) error {
		return tx.Record(ctx, identity.AuditRecord{Action: identity.ActionLoggedOutAll, At: time.Now(), UserID: u.ID})
	})
	if err != nil || count(t, db, "SELECT count(*) FROM outbox") != 1 {
		t.Errorf("logout-all wrote an event (or failed: %v)", err)
	}
}

// The hot lookups have indexes (shown with sequential scans disabled, as
// the tables are small here).
func TestHotQueriesAreIndexed(t *testing.T) {
	t.Parallel()
	_, db := newStore(t)
	for name, q := range map[string]string{
		"refresh token by hash":  `SELECT * FROM refresh_tokens WHERE token_hash = '\x00'::bytea`,
		"refresh token family":   `SELECT * FROM refresh_tokens WHERE family_id = '0190f3c4-8a7e-7b1c-9d2e-3f4a5b6c7d8e'::uuid`,
		"user's live tokens":     `SELECT * FROM refresh_tokens WHERE user_id = '0190f3c4-8a7e-7b1c-9d2e-3f4a5b6c7d8e'::uuid AND revoked_at IS NULL`,
		"user by email":          `SELECT * FROM users WHERE email = 'a@example.com'`,
		"user search":            `SELECT * FROM users WHERE (email || ' ' || lower(display_name)) LIKE '%alic%'`,
		"expired refresh tokens": `SELECT id FROM refresh_tokens WHERE expires_at < now()`,
	} {
		var plan []string
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			return tx.Raw("EXPLAIN " + q).Scan(&plan).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(plan, "\n"); !strings.Contains(text, "Index") {
			t.Errorf("%s is not indexed:\n%s", name, text)
		}
	}
}
