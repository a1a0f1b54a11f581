package revocation_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

const user = "0190f5a8-0000-7000-8000-00000000000a"

func identityEvent(t *testing.T, msg proto.Message) event.Event {
	t.Helper()
	e, err := event.New(context.Background(), user, msg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFromEvent(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	want := auth.Revocation{UserID: user, Generation: 3, Until: at.Add(auth.RevocationLifetime)}
	for _, msg := range []proto.Message{
		&eventsv1.UserDisabled{UserId: user, TokenGeneration: 3, At: timestamppb.New(at)},
		&eventsv1.UserEnabled{UserId: user, TokenGeneration: 3, At: timestamppb.New(at)},
		&eventsv1.UserRoleChanged{UserId: "0190F5A8-0000-7000-8000-00000000000A", TokenGeneration: 3, At: timestamppb.New(at)},
	} {
		r, ok, err := revocation.FromEvent(identityEvent(t, msg))
		if err != nil || !ok || r != want {
			t.Errorf("%T: %+v, %v, %v; want %+v", msg, r, ok, err, want)
		}
	}
	for _, msg := range []proto.Message{
		&eventsv1.UserDisabled{UserId: user, At: timestamppb.New(at)}, // an older producer: no generation
		&eventsv1.UserLoginSucceeded{UserId: user},
	} {
		if r, ok, err := revocation.FromEvent(identityEvent(t, msg)); ok || err != nil {
			t.Errorf("%T: %+v, %v, %v; want nothing", msg, r, ok, err)
		}
	}
	for _, msg := range []proto.Message{
		&eventsv1.UserDisabled{UserId: "nobody", TokenGeneration: 1},
		&eventsv1.UserRoleChanged{UserId: user, TokenGeneration: -1},
	} {
		if _, _, err := revocation.FromEvent(identityEvent(t, msg)); err == nil {
			t.Errorf("%v: no error", msg)
		}
	}
}

// Save keeps the highest generation, whatever order revocations arrive in.
func TestSaveKeepsTheHighestGeneration(t *testing.T) {
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, revocation.Migrations(), revocation.MigrationsTable); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	for _, r := range []auth.Revocation{
		{UserID: user, Generation: 2, Until: until},
		{UserID: user, Generation: 1, Until: until.Add(time.Minute)},
		{UserID: user, Generation: 2, Until: until.Add(-time.Minute)},
	} {
		if err := revocation.Save(ctx, db, r); err != nil {
			t.Fatal(err)
		}
	}
	list := auth.NewRevocations()
	if err := revocation.New(db, nil, list, nil).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if e, ok := list.Get(user); !ok || e.Generation != 2 || !e.Until.Equal(until) {
		t.Fatalf("loaded %+v, %v; want generation 2 until %s", e, ok, until)
	}
}
