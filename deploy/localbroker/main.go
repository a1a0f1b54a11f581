// Command localbroker runs a single-node Kafka-protocol broker (franz-go's
// kfake) on 127.0.0.1 with a data directory, for `make up` on a bare machine.
// Topics, messages and committed consumer-group offsets survive a restart.
// Compose and Kubernetes use Redpanda instead; the services cannot tell.
//
//	localbroker -port 9092 -data-dir .local/broker
//
// SIGTERM or SIGINT closes it cleanly (flushing the data directory).
package main

import (
	"context"
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
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "localbroker")
	b, err := localbroker.Start(localbroker.Config{Port: *port, DataDir: *dataDir, Partitions: *partitions, SyncWrites: *syncWrites})
	if err != nil {
		return err
	}
	log.Info("broker started", "addr", b.Addr(), "data_dir", *dataDir, "sync_writes", *syncWrites)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	b.Stop()
	log.Info("broker stopped")
	return nil
}
