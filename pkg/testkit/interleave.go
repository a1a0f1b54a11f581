package testkit

import (
	"testing"
	"time"

	"gorm.io/gorm"
)

// Interleave runs two transactions the way two consumer workers can: first
// runs until it calls its pause, then second starts, and first goes on
// once second has called its own pause too or some backend of db's
// database waits for a lock (second blocked on first). Each function is
// handed its pause to call between taking its first locks and the rest.
// It returns each one's error: a deadlock between them shows as PostgreSQL's
// "deadlock detected" in one of them.
func Interleave(t testing.TB, db *gorm.DB, first, second func(pause func()) error) (errFirst, errSecond error) {
	t.Helper()
	firstPaused, secondPaused, resume := make(chan struct{}), make(chan struct{}), make(chan struct{})
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { errA <- first(func() { close(firstPaused); <-resume }) }()
	select {
	case <-firstPaused:
	case err := <-errA:
		return err, nil
	}
	go func() { errB <- second(func() { close(secondPaused) }) }()
	var secondDone bool
	deadline := time.Now().Add(10 * time.Second)
	for waiting := false; !waiting; {
		select {
		case <-secondPaused:
			waiting = true
		case errSecond = <-errB: // it failed before its pause
			waiting, secondDone = true, true
		case <-time.After(10 * time.Millisecond):
			var n int64
			if err := db.Raw(`SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			waiting = n > 0
		}
		if !waiting && time.Now().After(deadline) {
			close(resume)
			t.Fatal("the second transaction neither paused nor waited for a lock")
		}
	}
	close(resume)
	errFirst = <-errA
	if !secondDone {
		errSecond = <-errB
	}
	return errFirst, errSecond
}
