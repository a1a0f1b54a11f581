package consumer_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shop-oss/shop/pkg/consumer"
)

// An event whose value PostgreSQL refuses (a data exception, SQLSTATE class
// 22) is dead-lettered at once as malformed: no retry can store it. Other
// database errors are retried.
func TestValueTheDatabaseRefusesIsPermanent(t *testing.T) {
	for code, permanent := range map[string]bool{
		"22021": true,  // invalid byte sequence (a NUL in text)
		"22003": true,  // numeric value out of range
		"40001": false, // serialization failure
		"57P01": false, // the server shut down
	} {
		err := fmt.Errorf("handle X: %w", &pgconn.PgError{Code: code})
		if got := consumer.IsPermanent(err); got != permanent {
			t.Errorf("SQLSTATE %s: IsPermanent %v, want %v", code, got, permanent)
		}
		want := consumer.CauseRetriesExhausted
		if permanent {
			want = consumer.CauseMalformed
		}
		if got := consumer.CauseOf(err); got != want {
			t.Errorf("SQLSTATE %s: cause %s, want %s", code, got, want)
		}
	}
}
