package service_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Only an administrator replays dead letters: a seller is refused (403),
// and so is an administrator demoted since their token was issued (401,
// revoked), one entry or many; nothing is replayed or recorded.
func TestDLQReplayByNonAdmins(t *testing.T) {
	f := startService(t)
	f.svc.Consumer.Handle(eventsv1.TypeOrderCreated, func(context.Context, *gorm.DB, event.Event) error {
		return consumer.Permanent(errors.New("refused"))
	})
	f.run(t)
	bad := bustest.OrderEvent(t, "order-refused", 1)
	w := f.svc.Broker.Writer()
	defer w.Close()
	if err := w.WriteMessages(context.Background(), bad.Message()); err != nil {
		t.Fatal(err)
	}
	waitDLQ(t, f, bad.ID.String())

	spec := openapitest.Load(t, "../../services/order/api/openapi.yaml")
	a := api{t: t, client: spec.Client(t), base: f.base}
	seller := f.issuer.Token(t, "0190f5a8-0000-7000-8000-0000000000e1", auth.RoleSeller)
	const deputy = "0190f5a8-0000-7000-8000-0000000000e2"
	demoted := f.issuer.Token(t, deputy, auth.RoleAdmin)
	if res, _ := a.do("GET", "/0", demoted, nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the admin before the demotion: %d", res.StatusCode)
	}
	f.svc.Revocations.Apply(time.Now(), auth.Revocation{UserID: deputy, Generation: 1, Until: time.Now().Add(time.Hour)})

	for who, c := range map[string]struct {
		token string
		want  int
	}{"seller": {seller, http.StatusForbidden}, "demoted admin": {demoted, http.StatusUnauthorized}} {
		for _, r := range []struct {
			path string
			body any
		}{{"/0/replay", nil}, {"/replay", map[string]any{"offsets": []int{0}}}, {"/replay", map[string]any{"filter": map[string]any{}}}} {
			if res, p := a.do("POST", r.path, c.token, r.body, nil); res.StatusCode != c.want {
				t.Errorf("%s POST %s: %d %v, want %d", who, r.path, res.StatusCode, p, c.want)
			}
		}
	}
	var replays int64
	f.svc.DB.Raw("SELECT count(*) FROM dead_letter_replays").Scan(&replays)
	if replays != 0 {
		t.Fatalf("%d replays recorded after refused requests", replays)
	}
}
