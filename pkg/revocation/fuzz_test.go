package revocation_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// The revocation consumer every service runs on identity.events, fuzzed
// like the services' own consumers (pkg/fuzztest.Events) on a real
// database: no identity event may make it panic or be retried in vain.
func FuzzRevocationEvents(f *testing.F) {
	const user = "0190f000-0000-7000-8000-00000000c001"
	at := timestamppb.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	seeds := []fuzztest.Event{
		{Name: "ok-user-disabled", Type: eventsv1.TypeUserDisabled, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserDisabled{UserId: user, TokenGeneration: 2, At: at})},
		{Name: "ok-user-enabled", Type: eventsv1.TypeUserEnabled, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserEnabled{UserId: user, TokenGeneration: 3, At: at})},
		{Name: "ok-user-role-changed", Type: eventsv1.TypeUserRoleChanged, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserRoleChanged{UserId: user, OldRole: "CUSTOMER", NewRole: "SELLER", TokenGeneration: 4, At: at})},
		{Name: "bad-user-disabled-negative-generation", Type: eventsv1.TypeUserDisabled, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserDisabled{UserId: user, TokenGeneration: -1})},
		{Name: "any-user-disabled-beyond-postgresql-time", Type: eventsv1.TypeUserDisabled, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserDisabled{UserId: user, TokenGeneration: 5, At: &timestamppb.Timestamp{Seconds: 1 << 50}})},
		{Name: "any-user-enabled-max-generation", Type: eventsv1.TypeUserEnabled, Key: user,
			Payload: fuzztest.Payload(&eventsv1.UserEnabled{UserId: user, TokenGeneration: 1<<63 - 1, At: at})},
	}
	for _, s := range seeds[:3] {
		seeds = append(seeds, fuzztest.SpoiledEvents(s.Type, s.Key, s.Payload)...)
	}
	fuzztest.Events(f, seeds, func(tb testing.TB) fuzztest.Consumer {
		// The service's own log, not tb's: a fuzz target may not log
		// through the testing.F while inputs run.
		tail := &fuzztest.Tail{}
		log := slog.New(slog.NewJSONHandler(tail, nil))
		dsn := testkit.PostgresURL(tb)
		ctx := context.Background()
		db, err := database.Open(ctx, dsn, database.Pool{MaxOpen: 4, MaxIdle: 4}, log)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = database.Close(db) })
		for _, m := range []struct {
			table string
			run   func() error
		}{
			{revocation.MigrationsTable, func() error {
				return database.Migrate(ctx, dsn, revocation.Migrations(), revocation.MigrationsTable)
			}},
			{consumer.MigrationsTable, func() error {
				return database.Migrate(ctx, dsn, consumer.Migrations(), consumer.MigrationsTable)
			}},
		} {
			if err := m.run(); err != nil {
				tb.Fatalf("migrate %s: %v", m.table, err)
			}
		}
		c := consumer.New(db, broker.Config{}, consumer.Config{Group: "fuzz.revocations", Topics: []string{eventsv1.TopicIdentity}},
			log, nil)
		revocation.New(db, nil, auth.NewRevocations(), nil).Register(c)
		return fuzztest.Consumer{Consumer: c, Log: tail}
	})
}
