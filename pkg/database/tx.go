package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// First is the statement a transaction starts with, for TxStartingWith:
// its SQL with pgx placeholders ($1...), its arguments, and what reads its
// rows (nil when nothing does).
type First struct {
	SQL  string
	Args []any
	Scan func(pgx.Rows) error
}

// ErrCommitRolledBack is the error of a COMMIT that PostgreSQL answered
// with ROLLBACK: the transaction had failed, nothing of it was kept.
var ErrCommitRolledBack = errors.New("commit ended in a rollback")

// TxStartingWith runs first and then fn in one transaction of db, sending
// BEGIN and first in one round trip (a pgx pipeline) instead of two. fn
// gets the transaction as a *gorm.DB, as with db.Transaction: an error (or
// a panic) rolls everything back, else it commits. A nested
// tx.Transaction inside fn uses a savepoint, as gorm's does.
//
// It suits a hot transaction whose first statement is known before it
// starts, such as a consumer's inbox claim: with a database a round trip
// away, BEGIN alone is one of the few things such a transaction waits for.
func TxStartingWith(ctx context.Context, db *gorm.DB, first First, fn func(tx *gorm.DB) error) (err error) {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close() // back to the pool; a connection left in a transaction is discarded there

	err = withPgx(conn, func(pc *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		q := b.Queue(first.SQL, first.Args...)
		if first.Scan != nil {
			q.Query(first.Scan)
		}
		return pc.SendBatch(ctx, b).Close()
	})
	if err != nil {
		rollback(ctx, conn)
		return fmt.Errorf("begin with the first statement: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			rollback(ctx, conn)
			panic(p)
		}
	}()

	tx := db.Session(&gorm.Session{Context: ctx, NewDB: true})
	tx.Statement.ConnPool = txConn{conn}
	if err := fn(tx); err != nil {
		rollback(ctx, conn)
		return err
	}
	return withPgx(conn, func(pc *pgx.Conn) error {
		tag, err := pc.Exec(ctx, "COMMIT")
		switch {
		case err != nil:
			return fmt.Errorf("commit: %w", err)
		case tag.String() == "ROLLBACK":
			return ErrCommitRolledBack
		}
		return nil
	})
}

// rollback ends the transaction on conn, even when ctx has ended; a
// connection it cannot roll back is discarded.
func rollback(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = withPgx(conn, func(pc *pgx.Conn) error {
		if _, err := pc.Exec(ctx, "ROLLBACK"); err != nil {
			return driver.ErrBadConn
		}
		return nil
	})
}

// withPgx runs fn on the pgx connection under conn.
func withPgx(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

// txConn is the connection of a TxStartingWith transaction as gorm sees
// it. It is a TxCommitter so that gorm nests a Transaction inside it with a
// savepoint instead of sending BEGIN again; the outer transaction ends only
// in TxStartingWith.
type txConn struct{ *sql.Conn }

func (txConn) Commit() error {
	return errors.New("database: the transaction commits when its function returns")
}

func (txConn) Rollback() error {
	return errors.New("database: the transaction rolls back when its function fails")
}

// Pipeline collects statements written for gorm (? placeholders) and sends
// them in one round trip inside a TxStartingWith transaction, which
// database/sql cannot do: they run in the transaction, in order, and each
// one's result is read through the pgx.QueuedQuery Queue returns.
type Pipeline struct {
	tx    *gorm.DB
	batch pgx.Batch
}

// NewPipeline returns an empty pipeline for tx.
func NewPipeline(tx *gorm.DB) *Pipeline { return &Pipeline{tx: tx} }

// Queue adds a statement as gorm would send it ($n placeholders and the
// arguments gorm binds).
func (p *Pipeline) Queue(sql string, args ...any) *pgx.QueuedQuery {
	if q, ok := numbered(sql, args); ok {
		return p.batch.Queue(q, args...)
	}
	st := p.tx.Session(&gorm.Session{NewDB: true}).Raw(sql, args...).Statement
	return p.batch.Queue(st.SQL.String(), st.Vars...)
}

// Len is how many statements are queued.
func (p *Pipeline) Len() int { return p.batch.Len() }

// Send runs the queued statements and their result readers. It reports
// false, sending nothing, when tx is not a TxStartingWith transaction: the
// caller then runs its statements one by one. With nothing queued it sends
// nothing and reports true.
func (p *Pipeline) Send(ctx context.Context) (bool, error) {
	if p.Len() == 0 {
		return true, nil
	}
	c, ok := p.tx.Statement.ConnPool.(txConn)
	if !ok {
		return false, nil
	}
	return true, withPgx(c.Conn, func(pc *pgx.Conn) error { return pc.SendBatch(ctx, &p.batch).Close() })
}

// LockKeysSQL takes, for the rest of the transaction, one advisory lock per
// distinct key (a uuid[] argument) in the class given first, in one order
// every transaction takes them in (the keys' hashes): transactions that
// lock overlapping sets of keys this way wait for each other instead of
// deadlocking. Two keys with one hash share a lock, which only serializes
// a little more. It locks keys whose rows may not exist yet, which row
// locks cannot.
const LockKeysSQL = `SELECT pg_advisory_xact_lock(?, k)
	FROM (SELECT DISTINCT hashtext(o::text) AS k FROM unnest(?::uuid[]) AS o ORDER BY 1) AS s`
