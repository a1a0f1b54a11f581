package eventsv1_test

import (
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// helperMessages are the messages of the package that are parts of events,
// not events themselves.
var helperMessages = map[protoreflect.FullName]bool{
	"shop.events.v1.Money":        true,
	"shop.events.v1.OrderLine":    true,
	"shop.events.v1.ReservedLine": true,
	"shop.events.v1.ShortLine":    true,
}

// wantTypes pins the wire names: they are part of the contract and must
// never change.
var wantTypes = []string{
	"USER_REGISTERED", "USER_ROLE_CHANGED", "USER_DISABLED",
	"USER_LOGIN_SUCCEEDED", "USER_LOGIN_FAILED", "REFRESH_TOKEN_REUSE_DETECTED",
	"USER_PASSWORD_CHANGED", "USER_ENABLED", "SELLER_APPLICATION_SUBMITTED",
	"SELLER_APPLICATION_APPROVED", "SELLER_APPLICATION_REJECTED",
	"PRODUCT_UPSERTED", "PRODUCT_PRICE_CHANGED", "PRODUCT_ARCHIVED",
	"ORDER_CREATED", "ORDER_CANCELLED", "ORDER_SHIPPED", "ORDER_DELIVERED",
	"INVENTORY_RESERVED", "INVENTORY_REJECTED", "INVENTORY_CONFIRMED",
	"INVENTORY_RELEASED", "RESERVATION_EXPIRED", "STOCK_LOW",
	"PAYMENT_INITIATED", "PAYMENT_SUCCESS", "PAYMENT_FAILED", "PAYMENT_REFUNDED",
	"PAYMENT_VOIDED",
}

// topicOfFile is the topic of the events declared in each .proto file: one
// file per producing service.
var topicOfFile = map[string]string{
	"identity.proto":  eventsv1.TopicIdentity,
	"catalog.proto":   eventsv1.TopicCatalog,
	"order.proto":     eventsv1.TopicOrder,
	"inventory.proto": eventsv1.TopicInventory,
	"payment.proto":   eventsv1.TopicPayment,
}

func TestTypesAreTheContract(t *testing.T) {
	got := eventsv1.Types()
	if !slices.Equal(got, wantTypes) {
		t.Fatalf("Types() = %v\nwant %v", got, wantTypes)
	}
	got[0] = "CHANGED"
	if eventsv1.Types()[0] != wantTypes[0] {
		t.Fatal("Types() returned its internal slice")
	}
}

func TestNewTypeOfRoundTrip(t *testing.T) {
	for _, typ := range eventsv1.Types() {
		m, ok := eventsv1.New(typ)
		if !ok || m == nil {
			t.Errorf("New(%q) = %v, %v; want a message", typ, m, ok)
			continue
		}
		gotType, topic, ok := eventsv1.TypeOf(m)
		if !ok || gotType != typ {
			t.Errorf("TypeOf(New(%q)) = %q, %q, %v; want %q", typ, gotType, topic, ok, typ)
		}
		file := path.Base(m.ProtoReflect().Descriptor().ParentFile().Path())
		if want := topicOfFile[file]; topic != want {
			t.Errorf("topic of %s (declared in %s) = %q, want %q", typ, file, topic, want)
		}
		other, _ := eventsv1.New(typ)
		if other == m {
			t.Errorf("New(%q) returned the same message twice", typ)
		}
	}
}

func TestEveryEventMessageRegisteredOnce(t *testing.T) {
	seen := map[protoreflect.FullName]int{}
	for _, typ := range eventsv1.Types() {
		m, _ := eventsv1.New(typ)
		seen[m.ProtoReflect().Descriptor().FullName()]++
	}

	helpersFound := map[protoreflect.FullName]bool{}
	files := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("shop.events.v1", func(fd protoreflect.FileDescriptor) bool {
		files++
		if _, ok := topicOfFile[path.Base(fd.Path())]; !ok && !strings.HasSuffix(fd.Path(), "/common.proto") {
			t.Errorf("%s: no topic known for this file; add it to topicOfFile", fd.Path())
		}
		msgs := fd.Messages()
		for i := range msgs.Len() {
			name := msgs.Get(i).FullName()
			if helperMessages[name] {
				helpersFound[name] = true
				if seen[name] != 0 {
					t.Errorf("helper message %s is registered as an event", name)
				}
				continue
			}
			if n := seen[name]; n != 1 {
				t.Errorf("event message %s registered %d times, want exactly once", name, n)
			}
			delete(seen, name)
		}
		return true
	})
	if files != len(topicOfFile)+1 {
		t.Errorf("found %d files in package shop.events.v1, want %d", files, len(topicOfFile)+1)
	}
	for name := range seen {
		t.Errorf("registered message %s is not declared in package shop.events.v1", name)
	}
	for name := range helperMessages {
		if !helpersFound[name] {
			t.Errorf("helper message %s no longer exists; remove it from helperMessages", name)
		}
	}
	// Sanity check that the walk above saw the generated files.
	if eventsv1.File_shop_events_v1_order_proto.Messages().ByName("OrderCreated") == nil {
		t.Error("OrderCreated missing from order.proto")
	}
}

func TestUnknown(t *testing.T) {
	if m, ok := eventsv1.New("NO_SUCH_EVENT"); ok || m != nil {
		t.Errorf("New(unknown) = %v, %v; want nil, false", m, ok)
	}
	for _, m := range []proto.Message{nil, &eventsv1.Money{}, timestamppb.Now()} {
		if typ, topic, ok := eventsv1.TypeOf(m); ok {
			t.Errorf("TypeOf(%T) = %q, %q, true; want not ok", m, typ, topic)
		}
	}
	// A typed nil pointer still names its message.
	if typ, _, ok := eventsv1.TypeOf((*eventsv1.OrderCreated)(nil)); !ok || typ != eventsv1.TypeOrderCreated {
		t.Errorf("TypeOf((*OrderCreated)(nil)) = %q, %v", typ, ok)
	}
}

func TestOrderCreatedWireRoundTrip(t *testing.T) {
	usd := func(minor int64) *eventsv1.Money {
		return &eventsv1.Money{AmountMinor: minor, Currency: "USD"}
	}
	in := &eventsv1.OrderCreated{
		OrderId: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		UserId:  "0193a1b2-0000-7000-8000-000000000001",
		Lines: []*eventsv1.OrderLine{
			{ProductId: "0193a1b2-0000-7000-8000-0000000000aa", Quantity: 2, UnitPrice: usd(1999)},
			{ProductId: "0193a1b2-0000-7000-8000-0000000000bb", Quantity: 1, UnitPrice: usd(550)},
		},
		Total: usd(4548),
	}

	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	typ, topic, ok := eventsv1.TypeOf(in)
	if !ok || typ != eventsv1.TypeOrderCreated || topic != eventsv1.TopicOrder {
		t.Fatalf("TypeOf(OrderCreated) = %q, %q, %v", typ, topic, ok)
	}
	// Decode as a consumer does: by the event-type header.
	out, ok := eventsv1.New(typ)
	if !ok {
		t.Fatalf("New(%q) not ok", typ)
	}
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !proto.Equal(in, out) {
		t.Fatalf("round trip mismatch:\n in: %v\nout: %v", in, out)
	}
	got := out.(*eventsv1.OrderCreated)
	if got.GetLines()[0].GetUnitPrice().GetAmountMinor() != 1999 || got.GetTotal().GetCurrency() != "USD" {
		t.Fatalf("decoded fields wrong: %v", got)
	}
}

func TestTimestampsRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	in := &eventsv1.InventoryReserved{
		OrderId:       "o",
		ReservationId: "r",
		ExpiresAt:     timestamppb.New(at),
		Lines:         []*eventsv1.ReservedLine{{ProductId: "p", Quantity: 3}},
	}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := new(eventsv1.InventoryReserved)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	if !out.GetExpiresAt().AsTime().Equal(at) || !proto.Equal(in, out) {
		t.Fatalf("round trip mismatch: %v", out)
	}
}

// The saga's events are keyed by order, as the event catalog says; stock
// and catalog and identity events are not.
func TestKeyedByOrder(t *testing.T) {
	for typ, want := range map[string]bool{
		eventsv1.TypeOrderCreated: true, eventsv1.TypeInventoryReserved: true, eventsv1.TypeReservationExpired: true, eventsv1.TypePaymentSuccess: true,
		eventsv1.TypePaymentRefunded: true, eventsv1.TypeStockLow: false, eventsv1.TypeProductUpserted: false, eventsv1.TypeUserDisabled: false, "NOPE": false,
	} {
		if got := eventsv1.KeyedByOrder(typ); got != want {
			t.Errorf("KeyedByOrder(%s) = %v, want %v", typ, got, want)
		}
	}
}
