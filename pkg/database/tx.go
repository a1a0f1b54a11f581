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

	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
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
	return conn.Raw(func(dc any) error {
		tag, err := dc.(*stdlib.Conn).Conn().Exec(ctx, "COMMIT")
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
func rollback(ctx context.Context, conn interface{ Raw(func(any) error) error }) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = conn.Raw(func(dc any) error {
		if _, err := dc.(*stdlib.Conn).Conn().Exec(ctx, "ROLLBACK"); err != nil {
			return driver.ErrBadConn
		}
		return nil
	})
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

// OnPgxConn runs fn on the pgx connection of tx when tx is a TxStartingWith
// transaction, for what database/sql cannot send, such as a pipeline of
// statements (pgx.Batch) that run in the transaction in one round trip. It
// reports false, without running fn, for any other *gorm.DB.
func OnPgxConn(tx *gorm.DB, fn func(*pgx.Conn) error) (bool, error) {
	c, ok := tx.Statement.ConnPool.(txConn)
	if !ok {
		return false, nil
	}
	return true, c.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

// Pgx returns a gorm statement (SQL with ? placeholders and its arguments)
// as pgx sends it, with $n placeholders and the arguments gorm binds, so
// that code written for gorm can also be queued in a pgx.Batch.
func Pgx(db *gorm.DB, sql string, args ...any) (string, []any) {
	st := db.Session(&gorm.Session{NewDB: true}).Raw(sql, args...).Statement
	return st.SQL.String(), st.Vars
}
