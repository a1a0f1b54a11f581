package event_test

import (
	"errors"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/fuzztest"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Whatever a message's envelope headers and payload, reading them never
// panics, and what cannot be read is ErrMalformed (dead-lettered at once).
func FuzzFromMessage(f *testing.F) {
	const id, at = "0190f5a8-0000-7000-8000-000000000001", "2026-12-07T15:00:00.123456789Z"
	good := fuzztest.Payload(&eventsv1.PaymentSucceeded{OrderId: id, PaymentId: id})
	seed := func(id, typ, version, at string, payload []byte) []any { return []any{id, typ, version, at, payload} }
	fuzztest.Seeds(f, map[string][]any{
		"ok-payment-success":     seed(id, eventsv1.TypePaymentSuccess, "1", at, good),
		"ok-empty-payload":       seed(id, eventsv1.TypeOrderCreated, "1", at, nil),
		"bad-no-id":              seed("", eventsv1.TypePaymentSuccess, "1", at, good),
		"bad-id-not-uuid":        seed("\x00\xff", eventsv1.TypePaymentSuccess, "1", at, good),
		"bad-no-type":            seed(id, "", "1", at, good),
		"bad-unknown-type":       seed(id, "NO_SUCH_EVENT", "1", at, good),
		"bad-version-zero":       seed(id, eventsv1.TypePaymentSuccess, "0", at, good),
		"bad-version-huge":       seed(id, eventsv1.TypePaymentSuccess, "92233720368547758070", at, good),
		"bad-occurred-at":        seed(id, eventsv1.TypePaymentSuccess, "1", "yesterday", good),
		"bad-payload-not-proto":  seed(id, eventsv1.TypePaymentSuccess, "1", at, []byte{0xff, 0xff, 0xff, 0x0f}),
		"bad-payload-bad-utf8":   seed(id, eventsv1.TypePaymentSuccess, "1", at, []byte("\x0a\x02\xff\xfe")),
		"any-payload-other-type": seed(id, eventsv1.TypeOrderCreated, "1", at, good),
	})
	f.Fuzz(func(t *testing.T, id, typ, version, at string, payload []byte) {
		m := kafka.Message{Topic: eventsv1.TopicPayment, Key: []byte("k"), Value: payload}
		for _, h := range [][2]string{
			{eventsv1.HeaderEventID, id}, {eventsv1.HeaderEventType, typ},
			{eventsv1.HeaderSchemaVersion, version}, {eventsv1.HeaderOccurredAt, at},
		} {
			if h[1] != "" {
				m.Headers = append(m.Headers, kafka.Header{Key: h[0], Value: []byte(h[1])})
			}
		}
		e, err := event.FromMessage(m)
		if err == nil {
			_, err = e.Decode()
		}
		if err != nil && !errors.Is(err, event.ErrMalformed) {
			t.Fatalf("an unreadable event is not ErrMalformed: %v", err)
		}
		fuzztest.AsExpected(t, err, e)
	})
}
