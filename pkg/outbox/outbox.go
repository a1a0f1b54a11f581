// Package outbox implements the transactional outbox: a service writes the
// events of a state change into the outbox table in the same transaction as
// the change; the Relay publishes committed events to Kafka and deletes
// them.
//
// An event is written one way in each of two cases.
//
// In a transaction the caller owns (the usual case: a command of the API,
// an event handler in its consumer's transaction, any change of more than
// one statement), Add writes the events in that transaction:
//
//	err := db.Transaction(func(tx *gorm.DB) error {
//		if err := tx.Exec(`UPDATE orders SET status = 'SHIPPED' WHERE id = ?`, id).Error; err != nil {
//			return err
//		}
//		return outbox.Add(ctx, tx, shipped)
//	})
//
// (AddWithdrawable and Withdraw are Add for an announcement written early
// that the transaction may take back before it commits.)
//
// In the one SQL statement that makes the change (a hot path that is a
// single statement, run on its own or in a pipeline, saving the round trips
// of a transaction), InsertFrom is a data-modifying CTE beside the change,
// with Values as its parameters. It writes the event once for each row of
// the CTE it selects from, so a change that touches no row writes none:
//
//	sql := `WITH changed AS (UPDATE orders SET status = 'SHIPPED' WHERE id = ? AND status = 'PAID' RETURNING id),
//		ev AS (` + outbox.InsertFrom("changed") + `)
//		SELECT count(*) FROM changed`
//	err := db.Raw(sql, append([]any{id}, outbox.Values(shipped)...)...).Scan(&n).Error
//
// Both write the same row; a consumer cannot tell which way an event came
// in. Use Add unless the change is one statement on a path measured to need
// it.
//
// Guarantees: an event is published if and only if its transaction
// committed; at least once (a crash after publishing and before the delete
// publishes again, and consumers are idempotent by event ID); the events of
// one key are published in the order they were written, because a key
// always maps to one lane and a lane is relayed by one relay at a time.
package outbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/event"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable records which outbox migrations ran.
const MigrationsTable = "outbox_schema_migrations"

// Migrations returns the SQL migrations of the outbox tables, to run with
// database.Migrate under MigrationsTable.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at compile time
	}
	return sub
}

// notifyChannel is the LISTEN/NOTIFY channel the insert trigger signals.
const notifyChannel = "shop_outbox"

// lanes must match the rows of outbox_lanes.
const lanes = 16

// ErrNoTransaction is returned by Add when tx is not a transaction: events
// written outside one could be published for a change that never committed.
var ErrNoTransaction = errors.New("outbox: events must be added inside a transaction")

// row is the outbox table.
type row struct {
	ID            int64 `gorm:"primaryKey;->"`
	Lane          int16
	Topic         string
	MessageKey    string
	EventID       uuid.UUID
	EventType     string
	SchemaVersion int
	OccurredAt    time.Time
	CorrelationID string
	CausationID   string
	Traceparent   string
	Payload       []byte
	CreatedAt     time.Time `gorm:"->"`
}

func (row) TableName() string { return "outbox" }

// Add stores events in tx, a transaction of the caller's. They are published
// after tx commits and never if it rolls back.
func Add(ctx context.Context, tx *gorm.DB, events ...event.Event) error {
	if len(events) == 0 {
		return nil
	}
	if !inTransaction(tx) {
		return ErrNoTransaction
	}
	// One multi-row INSERT, no RETURNING: this runs in every producing
	// transaction, so it is kept to one cheap round trip.
	sql, args := insert(events)
	if err := tx.WithContext(ctx).Exec(sql, args...).Error; err != nil {
		return fmt.Errorf("outbox: add %d events: %w", len(events), err)
	}
	return nil
}

// Written is the rows AddWithdrawable wrote, for Withdraw.
type Written []int64

// AddWithdrawable is Add for events that tx may take back before it commits
// (Withdraw): an announcement written early, before the locks that decide
// it, to keep those locks short.
func AddWithdrawable(ctx context.Context, tx *gorm.DB, events ...event.Event) (Written, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if !inTransaction(tx) {
		return nil, ErrNoTransaction
	}
	sql, args := insert(events)
	var ids Written
	if err := tx.WithContext(ctx).Raw(sql+" RETURNING id", args...).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("outbox: add %d events: %w", len(events), err)
	}
	return ids, nil
}

// Withdraw deletes rows that AddWithdrawable wrote in tx, before tx commits:
// no relay has seen them, and they are never published. It deletes by the
// primary key: by event ID it would read the whole outbox, which grows
// while the broker is down, with the caller's locks held.
func Withdraw(ctx context.Context, tx *gorm.DB, w Written) error {
	if len(w) == 0 {
		return nil
	}
	if !inTransaction(tx) {
		return ErrNoTransaction
	}
	if err := tx.WithContext(ctx).Exec("DELETE FROM outbox WHERE id IN ?", []int64(w)).Error; err != nil {
		return fmt.Errorf("outbox: withdraw %d events: %w", len(w), err)
	}
	return nil
}

// inTransaction reports whether tx is a transaction, which the outbox's
// writes must be in (ErrNoTransaction).
func inTransaction(tx *gorm.DB) bool {
	_, ok := tx.Statement.ConnPool.(gorm.TxCommitter)
	return ok
}

// insert is the multi-row INSERT of events, with its parameters.
func insert(events []event.Event) (string, []any) {
	var sql strings.Builder
	sql.WriteString("INSERT INTO outbox (" + columns + ") VALUES ")
	args := make([]any, 0, 11*len(events))
	for i, e := range events {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, Values(e)...)
	}
	return sql.String(), args
}

// columns are the outbox columns a producer writes, in the order of Values.
const columns = "lane, topic, message_key, event_id, event_type, schema_version, " +
	"occurred_at, correlation_id, causation_id, traceparent, payload"

// placeholders are gorm placeholders for Values, each cast to its column's
// type: a SELECT list, unlike the VALUES of an INSERT, does not infer them.
const placeholders = "?::smallint, ?::text, ?::text, ?::uuid, ?::text, ?::int, " +
	"?::timestamptz, ?::text, ?::text, ?::text, ?::bytea"

// InsertFrom is an INSERT of one event, whose parameters are Values, once
// for each row of src: the way to write an event in the same SQL statement
// as its change, as a data-modifying CTE beside it (see the package
// documentation; Add is the way inside a transaction):
//
//	WITH changed AS (UPDATE ... RETURNING ...), ev AS (<InsertFrom("changed")>) ...
//
// A src without rows writes no event.
func InsertFrom(src string) string {
	return "INSERT INTO outbox (" + columns + ") SELECT " + placeholders + " FROM " + src
}

// Values are the parameters of one event in InsertFrom.
func Values(e event.Event) []any {
	return []any{laneOf(e.Key), e.Topic, e.Key, e.ID, e.Type, e.SchemaVersion,
		e.OccurredAt, e.CorrelationID, e.CausationID, e.Traceparent, e.Payload}
}

func (r row) toEvent() event.Event {
	return event.Event{
		ID:            r.EventID,
		Type:          r.EventType,
		SchemaVersion: r.SchemaVersion,
		OccurredAt:    r.OccurredAt,
		CorrelationID: r.CorrelationID,
		CausationID:   r.CausationID,
		Traceparent:   r.Traceparent,
		Topic:         r.Topic,
		Key:           r.MessageKey,
		Payload:       r.Payload,
	}
}

func laneOf(key string) int16 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int16(h.Sum32() % lanes)
}
