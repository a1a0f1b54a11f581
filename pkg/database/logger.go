package database

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// queryLogger logs the statements that failed or were slow, and nothing
// else. gorm's own slog logger renders every statement's SQL text and
// formats its duration before it decides whether to log; this one asks gorm
// for the text only when it is going to write a line (see also dialector).
type queryLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newQueryLogger(log *slog.Logger, slow time.Duration) *queryLogger {
	return &queryLogger{log: log, slow: slow}
}

// LogMode is part of gorm's logger.Interface; the level is fixed (errors and
// slow statements), so it returns the logger unchanged.
func (l *queryLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *queryLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, msg, "args", args)
}

func (l *queryLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, msg, "args", args)
}

func (l *queryLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, msg, "args", args)
}

// Trace logs a statement that failed or took longer than the slow
// threshold. "Record not found" is not a failure (callers handle it), nor is
// a statement stopped because its caller's context was cancelled (a client
// gone, a shutdown): the caller sees that error and knows why.
func (l *queryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	failed := err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled)
	if !failed && elapsed <= l.slow {
		return
	}
	sql, rows := fc()
	attrs := []any{"sql", sql, "duration_ms", float64(elapsed.Microseconds()) / 1000}
	if rows >= 0 {
		attrs = append(attrs, "rows", rows)
	}
	if failed {
		l.log.ErrorContext(ctx, "SQL statement failed", append(attrs, "error", err.Error())...)
		return
	}
	l.log.WarnContext(ctx, "slow SQL statement", attrs...)
}

// ParamsFilter keeps values out of the logged SQL (gorm asks a logger that
// has this method): they may be personal data.
func (l *queryLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
