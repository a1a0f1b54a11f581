// Package database opens a service's PostgreSQL database through gorm over
// pgx, with pool settings, and applies its forward-only SQL migrations
// (golang-migrate, embedded files) at start-up.
//
// Each service owns one database; locally the database is created when it
// is missing, so a fresh machine needs no manual set-up.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Pool holds connection-pool settings.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	// AsyncCommit opens the connections with synchronous_commit off: a
	// commit answers before its WAL reaches the disk, so a crash of the
	// database server (not of the service) can undo the last few hundred
	// milliseconds of commits. Only for writes whose loss the caller
	// already survives; see the idempotency store.
	AsyncCommit bool
}

// Open connects to dsn with gorm, applies the pool settings and pings.
// Slow queries (over 200 ms) and errors are logged to log.
func Open(ctx context.Context, dsn string, pool Pool, log *slog.Logger) (*gorm.DB, error) {
	pgCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database URL %s: %w", Redact(dsn), err)
	}
	if pool.AsyncCommit {
		pgCfg.RuntimeParams["synchronous_commit"] = "off"
	}
	conn := stdlib.OpenDB(*pgCfg)
	db, err := gorm.Open(dialector{postgres.Dialector{Config: &postgres.Config{Conn: conn}}}, &gorm.Config{
		Logger:                 newQueryLogger(log.With("component", "gorm"), 200*time.Millisecond),
		TranslateError:         false, // stores translate driver errors themselves (IsUniqueViolation)
		SkipDefaultTransaction: true,  // writes run in the caller's explicit transactions
		PrepareStmt:            false,
	})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open database %s: %w", Redact(dsn), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	if pool.MaxOpen > 0 {
		sqlDB.SetMaxOpenConns(pool.MaxOpen)
	}
	if pool.MaxIdle > 0 {
		sqlDB.SetMaxIdleConns(pool.MaxIdle)
	}
	if pool.MaxLifetime > 0 {
		sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ping database %s: %w", Redact(dsn), err)
	}
	return db, nil
}

// dialector is gorm's PostgreSQL dialector with an Explain that leaves the
// statement as it is. gorm renders every statement with Explain (regular
// expressions over the text, to put the values in) for its logger, even
// when nothing will be logged: Raw(...).Scan records each statement through
// a logger of its own that cannot be switched off. That cost 8% of the
// order service's CPU. Values must never reach a log anyway.
type dialector struct{ postgres.Dialector }

func (dialector) Explain(sql string, _ ...any) string { return sql }

// Close closes the pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers; it is a readiness check.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// EnsureExists creates the database named in dsn when it does not exist,
// connecting to the server's maintenance database "postgres" to do so.
func EnsureExists(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return fmt.Errorf("database URL %s names no database", Redact(dsn))
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to %s to create database %q: %w", Redact(admin.String()), name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !IsCode(err, "42P04") { // created concurrently by another replica
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// IsCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func IsCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// IsUniqueViolation reports a unique or primary-key violation (23505).
func IsUniqueViolation(err error) bool { return IsCode(err, "23505") }

// IsCheckViolation reports a CHECK constraint violation (23514).
func IsCheckViolation(err error) bool { return IsCode(err, "23514") }

// IsConnectionLost reports an error that says the connection to the server
// was lost or refused, not that the statement was wrong: a connection the
// server closed (SQLSTATE class 08, 57P01-57P03: shut down, crashed,
// starting up), one that failed to open, a network error, or a connection
// the pool handed out already dead (after a server restart, every idle
// connection in the pool is). Such a failure is the server's, not the
// event's or the request's.
func IsConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// pgx reports a connection it closed after a fatal error as "conn closed".
	return strings.Contains(err.Error(), "conn closed")
}

// Redact hides the password of a DSN, for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
