// Package localbroker runs franz-go's kfake as a single-node Kafka-protocol
// broker with a data directory, so topics, messages and committed consumer
// offsets survive a restart. It backs `make up` (through deploy/localbroker)
// and the tests (through testkit); compose and Kubernetes use Redpanda, and
// nothing in the services depends on which broker it is.
package localbroker

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config says where the broker listens and keeps its data.
type Config struct {
	// Port on 127.0.0.1 (kfake listens on loopback only); 0 picks a free one
	// at the first start and keeps it across restarts.
	Port int
	// DataDir keeps topics, messages and offsets; empty means in memory.
	DataDir string
	// Partitions for topics created without a count (auto-created ones).
	Partitions int
	// SyncWrites fsyncs every produced batch (about half the throughput).
	SyncWrites bool
	// Users, when any, switch SASL on: every client must authenticate as
	// one of them (each a superuser, as a cluster's service account is).
	Users []User
	// TLS, when set, makes the broker speak TLS only.
	TLS *tls.Config
}

// User is a SASL user of the broker.
type User struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism, Name, Password string
}

// Broker is a running (or stopped) local broker.
type Broker struct {
	mu      sync.Mutex
	cfg     Config
	cluster *kfake.Cluster
}

// Start starts a broker.
func Start(cfg Config) (*Broker, error) {
	b := &Broker{cfg: cfg}
	if err := b.Start(); err != nil {
		return nil, err
	}
	return b, nil
}

// Start (re)starts a stopped broker on the same port and data directory.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cluster != nil {
		return nil
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(b.cfg.Port),
		kfake.AllowAutoTopicCreation(),
	}
	if b.cfg.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(b.cfg.Partitions))
	}
	if b.cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(b.cfg.DataDir))
	}
	if b.cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if len(b.cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range b.cfg.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	if b.cfg.TLS != nil {
		opts = append(opts, kfake.TLS(b.cfg.TLS))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start local broker on port %d: %w", b.cfg.Port, err)
	}
	b.cluster = c
	if b.cfg.Port == 0 {
		_, port, _ := net.SplitHostPort(c.ListenAddrs()[0])
		b.cfg.Port, _ = strconv.Atoi(port)
	}
	return nil
}

// Stop closes the broker, flushing its data directory.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cluster != nil {
		b.cluster.Close()
		b.cluster = nil
	}
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.cfg.Port))
}
