package broker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/localbroker"
	"github.com/shop-oss/shop/pkg/testkit"
)

func TestSASLAndTLS(t *testing.T) {
	for _, mech := range []string{broker.ScramSHA256, broker.ScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			b, caFile := testkit.SecureBroker(t, localbroker.User{Mechanism: mech, Name: "shop", Password: "right-password"})
			connect := func(t *testing.T, mechanism, password, ca string) broker.Config {
				t.Helper()
				m, err := broker.Mechanism(mechanism, "shop", password)
				if err != nil {
					t.Fatal(err)
				}
				tlsCfg, err := broker.TLSConfig(broker.TLSFiles{CA: ca})
				if err != nil {
					t.Fatal(err)
				}
				return broker.Config{Brokers: []string{b.Addr()}, Partitions: 3, Replicas: 1, ClientID: "test", SASL: m, TLS: tlsCfg}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			t.Run("the right credentials produce and consume", func(t *testing.T) {
				cfg := connect(t, mech, "right-password", caFile)
				topic := broker.Topic{Name: "secure.events", Partitions: 3, MinInSyncReplicas: 1}
				if err := broker.EnsureTopics(ctx, cfg.Client(), 1, topic); err != nil {
					t.Fatalf("create topics: %v", err)
				}
				if err := broker.Ping(ctx, cfg); err != nil {
					t.Fatalf("ping: %v", err)
				}
				w := cfg.Writer()
				w.Topic = topic.Name
				defer w.Close()
				if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: []byte("over TLS")}); err != nil {
					t.Fatalf("produce: %v", err)
				}
				r := kafka.NewReader(kafka.ReaderConfig{
					Brokers: cfg.Brokers, GroupID: "secure-test", Topic: topic.Name,
					StartOffset: kafka.FirstOffset, Dialer: cfg.Dialer(5 * time.Second),
				})
				defer r.Close()
				m, err := r.FetchMessage(ctx)
				if err != nil {
					t.Fatalf("consume: %v", err)
				}
				if string(m.Value) != "over TLS" {
					t.Fatalf("consumed %q", m.Value)
				}
			})

			refused := []struct {
				name, mechanism, password, ca string
				want                          string
			}{
				{"a wrong password", mech, "wrong-password", caFile, "refused the SASL username or password"},
				{"the other SCRAM mechanism", other(mech), "right-password", caFile, "refused the SASL username or password"},
				{"an untrusted certificate", mech, "right-password", "", "TLS certificate is not trusted"},
			}
			for _, c := range refused {
				t.Run(c.name+" is refused at once", func(t *testing.T) {
					cfg := connect(t, c.mechanism, c.password, c.ca)
					err := broker.Ping(ctx, cfg)
					if !errors.Is(err, broker.ErrAuth) || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("ping: got %v, want broker.ErrAuth saying %q", err, c.want)
					}
					// kafka-go's client reports only that no broker is
					// available; Ping is what tells why.
					if err := broker.EnsureTopics(ctx, cfg.Client(), 1, broker.Topic{Name: "other.events", Partitions: 1}); err == nil {
						t.Fatal("topics created with refused credentials")
					}
				})
			}
		})
	}
}

func other(mech string) string {
	if mech == broker.ScramSHA256 {
		return broker.ScramSHA512
	}
	return broker.ScramSHA256
}

func TestMechanismAndTLSConfigRefuseBadSettings(t *testing.T) {
	if m, err := broker.Mechanism("", "", ""); m != nil || err != nil {
		t.Fatalf("no mechanism: got %v, %v", m, err)
	}
	for _, c := range []struct{ name, user, pass, want string }{
		{"SCRAM-SHA-1", "u", "p", "unknown SASL mechanism"},
		{broker.ScramSHA512, "", "p", "needs a username and a password"},
		{broker.Plain, "u", "", "needs a username and a password"},
	} {
		if _, err := broker.Mechanism(c.name, c.user, c.pass); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Mechanism(%q, %q, %q): got %v, want %q", c.name, c.user, c.pass, err, c.want)
		}
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		files broker.TLSFiles
		want  string
	}{
		{broker.TLSFiles{CA: filepath.Join(t.TempDir(), "missing.pem")}, "no such file"},
		{broker.TLSFiles{CA: notPEM}, "no PEM certificate"},
		{broker.TLSFiles{Cert: notPEM}, "both its certificate and its key"},
	} {
		if _, err := broker.TLSConfig(c.files); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("TLSConfig(%+v): got %v, want %q", c.files, err, c.want)
		}
	}
}
