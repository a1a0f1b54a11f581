// Command localbroker runs a single-node Kafka-protocol broker (franz-go's
// kfake) on 127.0.0.1 with a data directory, for `make up` on a bare machine.
// Topics, messages and committed consumer-group offsets survive a restart.
// Compose and Kubernetes use Redpanda instead; the services cannot tell.
//
//	localbroker -port 9092 -data-dir .local/broker
//
// With -sasl-mechanism (SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN) it requires
// SASL as the one user -sasl-username / -sasl-password, and with
// -tls-cert-file and -tls-key-file it speaks TLS only: a stand-in for a
// secured cluster, to try the services' SHOP_BROKER_* settings locally.
//
// SIGTERM or SIGINT closes it cleanly (flushing the data directory).
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/shop-oss/shop/pkg/localbroker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localbroker:", err)
		os.Exit(1)
	}
}

func run() error {
	port := flag.Int("port", 9092, "port on 127.0.0.1")
	dataDir := flag.String("data-dir", ".local/broker", "directory for topics, messages and offsets")
	partitions := flag.Int("partitions", 6, "partitions of auto-created topics")
	syncWrites := flag.Bool("sync", false, "fsync every produced batch (slower, survives power loss)")
	mechanism := flag.String("sasl-mechanism", "", "require SASL with this mechanism (SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN)")
	username := flag.String("sasl-username", "", "the SASL user (with -sasl-mechanism)")
	password := flag.String("sasl-password", "", "the SASL user's password (with -sasl-mechanism)")
	certFile := flag.String("tls-cert-file", "", "serve TLS only, with this certificate (PEM; with -tls-key-file)")
	keyFile := flag.String("tls-key-file", "", "the private key of -tls-cert-file (PEM)")
	flag.Parse()

	cfg := localbroker.Config{Port: *port, DataDir: *dataDir, Partitions: *partitions, SyncWrites: *syncWrites}
	if *mechanism != "" {
		if *username == "" || *password == "" {
			return fmt.Errorf("-sasl-mechanism needs -sasl-username and -sasl-password")
		}
		cfg.Users = []localbroker.User{{Mechanism: *mechanism, Name: *username, Password: *password}}
	}
	if *certFile != "" || *keyFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "localbroker")
	b, err := localbroker.Start(cfg)
	if err != nil {
		return err
	}
	log.Info("broker started", "addr", b.Addr(), "data_dir", *dataDir, "sync_writes", *syncWrites,
		"sasl", *mechanism, "tls", cfg.TLS != nil)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	b.Stop()
	log.Info("broker stopped")
	return nil
}
