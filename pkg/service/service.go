// Package service wires what every Shop service has, so that a service's
// main only adds its own routes, event handlers and background tasks:
// configuration, JSON logging, its PostgreSQL database (created locally when
// missing, migrated at start-up), Redis, the broker (topics created at
// start-up), the outbox relay, an idempotent consumer group, JWT
// verification, rate limits, /healthz, /readyz, /metrics, the admin DLQ API,
// and graceful shutdown.
//
// Shutdown order on SIGTERM: /readyz starts failing; the HTTP server stops
// taking connections and finishes in-flight requests; consumers and tasks
// stop (consumers finish their batch and commit offsets); the outbox relay
// publishes what is left; connections close.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/buildinfo"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/dlq"
	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/pkg/wakeup"
	"github.com/shop-oss/shop/pkg/web"
)

// Options describe what is particular to a service.
type Options struct {
	// Migrations are the service's own SQL migrations (NNNN_name.up.sql at
	// the root of the FS).
	Migrations fs.FS
	// Publishes are the topics the service owns and creates at start-up.
	Publishes []string
	// Consumes are the topics its consumer group reads; none means no
	// consumer.
	Consumes []string
	// Consumer tunes the consumer group (batch size, retries, OnCommitted
	// hook...); Group and Topics are set from the service name and Consumes.
	Consumer consumer.Config
	// Errors maps the service's domain errors to problems.
	Errors []problem.Mapping
	// LogOutput receives the JSON logs (os.Stdout when nil).
	LogOutput io.Writer
	// StartupTimeout bounds waiting for PostgreSQL and the broker at start
	// (default 60s): in compose and Kubernetes they may come up later.
	StartupTimeout time.Duration
	// LongPolls says the service answers long polls: its Wakeup hub then
	// carries wake-ups between replicas (a Redis subscription each).
	// Without it the hub wakes waiters in this process only.
	LongPolls bool
}

// Service is a running service's shared machinery.
type Service struct {
	Name   string
	Config config.Common
	Log    *slog.Logger
	// DB is the service's database; ReadDB is the read replica when
	// SHOP_DATABASE_READ_URL is set, else DB.
	DB, ReadDB *gorm.DB
	// asyncDB is a smaller pool on the same database whose commits do not
	// wait for the disk (database.Pool.AsyncCommit): the idempotency
	// records' only.
	asyncDB  *gorm.DB
	Redis    *redis.Client
	Broker   broker.Config
	Registry *prometheus.Registry
	// Tracing is the service's tracer provider (OTEL_* environment; see
	// package tracing): HTTP requests, consumed and published events get
	// spans from it.
	Tracing *tracing.Tracing
	// Engine serves everything; API is /api/v1 with the default rate limit.
	Engine *gin.Engine
	API    *gin.RouterGroup
	Auth   *auth.Verifier
	// Revocations is the revocation list Auth checks; revocations keeps it
	// current (see revocations.go).
	Revocations *auth.Revocations
	revocations *revocation.Feed
	// Limiter is the shared Redis rate limiter, for stricter limits on
	// particular routes.
	Limiter *ratelimit.Limiter
	// Consumer is the service's consumer group (nil without Consumes);
	// register handlers before Run.
	Consumer *consumer.Consumer
	DLQ      *dlq.DLQ
	// Idempotency backs Idempotent().
	Idempotency *idempotency.Store
	// Wakeup wakes long polls ("Prefer: wait") when what they wait for is
	// committed: in every replica (Redis channel "<service>.wakeup") when
	// Options.LongPolls, else in this one.
	Wakeup *wakeup.Hub

	health  *web.Health
	server  *web.Server
	kafka   *kafka.Client
	relayW  *kafka.Writer
	relay   *outbox.Relay
	tasks   []task
	closers []func() error
}

type task struct {
	name string
	fn   func(context.Context) error
}

// New connects, migrates and builds the HTTP engine. It does not serve yet:
// add routes and handlers, then call Run. The HTTP port is bound here, so
// Addr is known before Run.
func New(ctx context.Context, cfg config.Common, opts Options) (_ *Service, err error) {
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stdout
	}
	if opts.StartupTimeout <= 0 {
		opts.StartupTimeout = 60 * time.Second
	}
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	brokerCfg, err := cfg.Broker()
	if err != nil {
		return nil, err
	}
	s := &Service{
		Name:     cfg.Service,
		Config:   cfg,
		Log:      logging.New(opts.LogOutput, level, cfg.Service),
		Registry: prometheus.NewRegistry(),
		Broker:   brokerCfg,
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.Tracing, err = tracing.New(ctx, cfg.Service, buildinfo.Get().Version, nil, s.Log); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() error { // closed last: flushes what the shutdown traced
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.Tracing.Shutdown(ctx)
	})

	if err := s.openDatabase(ctx, opts); err != nil {
		return nil, err
	}
	if err := s.openBroker(ctx, opts); err != nil {
		return nil, err
	}
	redisOpts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("SHOP_REDIS_URL: %w", err)
	}
	// Redis is a cache and a limiter here, never the source of truth: a
	// slow or absent Redis must cost requests milliseconds, not seconds.
	// (Settings given in the URL's query win.)
	if redisOpts.DialTimeout == 0 {
		redisOpts.DialTimeout = 500 * time.Millisecond
	}
	if redisOpts.ReadTimeout == 0 {
		redisOpts.ReadTimeout = 300 * time.Millisecond
	}
	if redisOpts.WriteTimeout == 0 {
		redisOpts.WriteTimeout = 300 * time.Millisecond
	}
	if redisOpts.PoolTimeout == 0 {
		redisOpts.PoolTimeout = 500 * time.Millisecond
	}
	if redisOpts.MaxRetries == 0 {
		redisOpts.MaxRetries = -1
	}
	redisOpts.DialerRetries = 1
	s.Redis = redis.NewClient(redisOpts)
	s.closers = append(s.closers, s.Redis.Close)
	s.Limiter = ratelimit.New(s.Redis, cfg.Service, s.Registry, s.Log)
	var fanOut *redis.Client // without long polls, wake-ups stay in this process
	if opts.LongPolls {
		fanOut = s.Redis
	}
	s.Wakeup = wakeup.New(fanOut, cfg.Service+".wakeup", s.Log, s.Registry)
	s.Go("wake-up fan-out", s.Wakeup.Run) // returns at once without Redis

	if err := s.followRevocations(ctx); err != nil {
		return nil, err
	}
	s.Auth, err = auth.NewVerifier(ctx, auth.Config{
		JWKSURL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: cfg.JWTLeeway,
		Revocations: s.Revocations,
	}, s.Log)
	if err != nil {
		return nil, fmt.Errorf("jwt verifier: %w", err)
	}
	s.closers = append(s.closers, func() error { s.Auth.Close(); return nil })

	s.Idempotency, err = idempotency.NewStore(s.asyncDB, idempotency.Config{Secret: []byte(cfg.IdempotencySecret), Logger: s.Log}, s.Registry)
	if err != nil {
		return nil, err
	}
	// Records fingerprinted before fingerprints were keyed are keyed at
	// once, and hourly after (a replica of the previous release may still
	// write some during a rolling upgrade).
	s.Go("idempotency-key upkeep", func(ctx context.Context) error {
		s.keyUpkeep(ctx)
		return Every(ctx, time.Hour, s.keyUpkeep)
	})
	if err := s.buildHTTP(opts); err != nil {
		return nil, err
	}
	s.server, err = web.Listen(cfg.HTTPAddr, s.Engine)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) openDatabase(ctx context.Context, opts Options) error {
	cfg := s.Config
	pool := database.Pool{MaxOpen: cfg.DBMaxOpenConns, MaxIdle: cfg.DBMaxIdleConns, MaxLifetime: cfg.DBConnLifetime}
	err := retry(ctx, opts.StartupTimeout, s.Log, "database", func(ctx context.Context) error {
		if cfg.DatabaseCreate {
			if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
				return err
			}
		}
		db, err := database.Open(ctx, cfg.DatabaseURL, pool, s.Log)
		if err != nil {
			return err
		}
		s.DB = db
		return nil
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() error { return database.Close(s.DB) })
	// Idempotency records may commit without waiting for the disk: a record
	// that a database crash undoes costs no more than a service crash
	// between the handler's commit and the record's completion, which the
	// handlers survive with a unique key of their own (pkg/idempotency).
	// On the saga load that takes the WAL flushes per order from 4.1 to 2.3
	// (pg_stat_wal).
	async := database.Pool{MaxOpen: max(2, pool.MaxOpen/3), MaxLifetime: pool.MaxLifetime, AsyncCommit: true}
	async.MaxIdle = async.MaxOpen
	if s.asyncDB, err = database.Open(ctx, cfg.DatabaseURL, async, s.Log); err != nil {
		return fmt.Errorf("async-commit pool: %w", err)
	}
	s.closers = append(s.closers, func() error { return database.Close(s.asyncDB) })
	s.ReadDB = s.DB
	if cfg.DatabaseReadURL != "" {
		if s.ReadDB, err = database.Open(ctx, cfg.DatabaseReadURL, pool, s.Log); err != nil {
			return fmt.Errorf("read replica: %w", err)
		}
		s.closers = append(s.closers, func() error { return database.Close(s.ReadDB) })
	}
	if !cfg.DatabaseMigrate {
		return nil
	}
	return migrate(ctx, cfg.DatabaseURL, opts.Migrations)
}

// Migrate brings the service's database up to date, creating it first when
// SHOP_DATABASE_CREATE is on: what New does at start-up, for the
// `<service> migrate` command that a deployment runs before a release (with
// SHOP_DATABASE_MIGRATE off for the service itself). Like New, it waits up
// to a minute for the database to accept connections.
func Migrate(ctx context.Context, cfg config.Common, migrations fs.FS, log *slog.Logger) error {
	err := retry(ctx, time.Minute, log, "database", func(ctx context.Context) error {
		if cfg.DatabaseCreate {
			if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
				return err
			}
		}
		db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 1, MaxIdle: 1}, log)
		if err != nil {
			return err
		}
		return database.Close(db)
	})
	if err != nil {
		return err
	}
	return migrate(ctx, cfg.DatabaseURL, migrations)
}

// migrate applies the service's own migrations and those of the shared
// tables (outbox, inbox, dead letters, idempotency keys), each set with its
// own version table.
func migrate(ctx context.Context, dsn string, migrations fs.FS) error {
	sets := []struct {
		fsys  fs.FS
		table string
	}{
		{migrations, "schema_migrations"},
		{outbox.Migrations(), outbox.MigrationsTable},
		{consumer.Migrations(), consumer.MigrationsTable},
		{dlq.Migrations(), dlq.MigrationsTable},
		{idempotency.Migrations(), idempotency.MigrationsTable},
		{revocation.Migrations(), revocation.MigrationsTable},
	}
	for _, set := range sets {
		if set.fsys == nil {
			continue
		}
		if err := database.Migrate(ctx, dsn, set.fsys, set.table); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) openBroker(ctx context.Context, opts Options) error {
	s.kafka = s.Broker.Client()
	minISR := s.Broker.MinInSyncReplicas
	topics := []broker.Topic{{Name: s.Name + ".dlq", Partitions: 1, MinInSyncReplicas: minISR}}
	for _, t := range opts.Publishes {
		topics = append(topics, broker.Topic{Name: t, Partitions: s.Broker.Partitions, MinInSyncReplicas: minISR})
	}
	// Consumed topics are created too (with the same settings their owner
	// would use), so start order between services does not matter.
	for _, t := range append(slices.Clone(opts.Consumes), revocationTopic) {
		if !slices.ContainsFunc(topics, func(have broker.Topic) bool { return have.Name == t }) {
			topics = append(topics, broker.Topic{Name: t, Partitions: s.Broker.Partitions, MinInSyncReplicas: minISR})
		}
	}
	// DLQ replays reach the consumer that failed, and no other, through a
	// topic that only this service's group reads.
	retryTopic := ""
	if len(opts.Consumes) > 0 {
		retryTopic = consumer.RetryTopic(s.Name)
		topics = append(topics, broker.Topic{Name: retryTopic, Partitions: s.Broker.Partitions, MinInSyncReplicas: minISR})
	}
	topics = append(topics, broker.Topic{Name: consumer.RetryTopic(revocationGroup(s.Name)), Partitions: s.Broker.Partitions,
		MinInSyncReplicas: minISR})
	err := retry(ctx, opts.StartupTimeout, s.Log, "broker", func(ctx context.Context) error {
		if err := broker.Ping(ctx, s.Broker); errors.Is(err, broker.ErrAuth) {
			// Wrong credentials or an untrusted certificate do not get
			// better by waiting: say so now, naming the settings.
			return permanent{fmt.Errorf("%w (check SHOP_BROKER_SASL_MECHANISM, SHOP_BROKER_SASL_USERNAME, "+
				"SHOP_BROKER_SASL_PASSWORD and SHOP_BROKER_TLS_*)", err)}
		} else if err != nil {
			return err
		}
		return broker.EnsureTopics(ctx, s.kafka, s.Broker.Replicas, topics...)
	})
	if err != nil {
		return err
	}
	s.relayW = s.Broker.Writer()
	s.closers = append(s.closers, s.relayW.Close)
	s.relay = outbox.NewRelay(s.DB, s.Config.DatabaseURL, s.relayW, outbox.RelayConfig{Tracer: s.Tracing.Tracer()}, s.Log, s.Registry)
	if len(opts.Consumes) > 0 {
		cc := opts.Consumer
		cc.Group, cc.Topics, cc.DLQTopic, cc.RetryTopic = s.Name, opts.Consumes, s.Name+".dlq", retryTopic
		cc.Tracer = s.Tracing.Tracer()
		s.Consumer = consumer.New(s.DB, s.Broker, cc, s.Log, s.Registry)
	}
	// The DLQ replays an entry to the retry topic of the group that failed
	// it; a service with another consumer group adds it here (and creates
	// its retry topic above).
	groups := map[string][]string{revocationGroup(s.Name): {revocationTopic}}
	if s.Consumer != nil {
		groups[s.Name] = opts.Consumes
	}
	s.DLQ = dlq.New(s.DB, s.Broker, dlq.Options{Topic: s.Name + ".dlq", Groups: groups, MaxSchemaVersion: opts.Consumer.MaxSchemaVersion,
		Tracer: s.Tracing.Tracer()})
	s.closers = append(s.closers, s.DLQ.Close)
	// Gauges of stored state are read on scrape, by cheap indexed queries:
	// nothing on the request or event path.
	s.Registry.MustRegister(outbox.NewBacklogCollector(s.DB, s.Log), dlq.NewCollector(s.DLQ, s.Log))
	return nil
}

func (s *Service) buildHTTP(opts Options) error {
	var err error
	s.Engine, err = web.NewEngine(web.Options{
		Logger: s.Log, Registry: s.Registry, BodyLimit: s.Config.BodyLimit,
		TrustedProxies: s.Config.TrustedProxies,
		Tracer:         s.Tracing.Tracer(),
		Errors:         problem.NewMapper(slices.Concat(opts.Errors, dlqErrors)...),
	})
	if err != nil {
		return err
	}
	s.health = web.NewHealth(map[string]web.Check{
		"database": func(ctx context.Context) error { return database.Ping(ctx, s.DB) },
		"redis":    func(ctx context.Context) error { return s.Redis.Ping(ctx).Err() },
		"broker":   func(ctx context.Context) error { return broker.Ping(ctx, s.Broker) },
	}, 2*time.Second, s.Log)
	s.health.Mount(s.Engine, s.Registry)
	s.API = s.Engine.Group("/api/v1")
	if n := s.Config.RateLimitPerMinute; n > 0 {
		// A client's requests come in runs (a page, a checkout), so the
		// per-client budget is taken from Redis in batches: one Redis call
		// per apiBatch requests, the budget still shared by all replicas.
		s.API.Use(s.Limiter.Batched(redis_rate.PerMinute(n), apiBatch(n), apiBatchHold).Middleware(ratelimit.ByClientIP))
	}
	admin := s.API.Group("/admin/dlq/"+s.Name, auth.Authenticate(s.Auth), auth.RequireRole(auth.RoleAdmin))
	mountDLQ(admin, s.DLQ)
	return nil
}

// apiBatch is how many events of a client's API budget of perMinute a
// replica takes from Redis at once: a hundredth of it, at most 10, so that
// what a replica holds is a small part of the budget; at least 1 (exact)
// for small budgets.
func apiBatch(perMinute int) int { return min(10, max(1, perMinute/100)) }

// apiBatchHold is how long a replica keeps the events of a batch that no
// request spent; after it they are given up.
const apiBatchHold = time.Second

// Idempotent returns middleware that requires and honours an
// Idempotency-Key, scoped to the authenticated user (or the client IP when
// anonymous). Mount it after authentication.
func (s *Service) Idempotent() gin.HandlerFunc {
	return idempotency.Middleware(s.Idempotency, keyScope)
}

// IdempotentInTx is Idempotent for a route whose handler writes the key's
// record with its change (idempotency.InTransaction).
func (s *Service) IdempotentInTx() gin.HandlerFunc {
	return idempotency.InTransaction(s.Idempotency, keyScope)
}

// keyScope scopes an Idempotency-Key to the authenticated user, or the
// client IP when anonymous.
func keyScope(c *gin.Context) string {
	if p, ok := auth.FromContext(c.Request.Context()); ok {
		return "user:" + p.UserID
	}
	return "ip:" + c.ClientIP()
}

// keyUpkeep fingerprints again the records with an unkeyed fingerprint,
// and deletes the expired ones.
func (s *Service) keyUpkeep(ctx context.Context) {
	if n, err := s.Idempotency.Rekey(ctx); err != nil {
		s.Log.WarnContext(ctx, "rekey idempotency keys", "error", err.Error())
	} else if n > 0 {
		s.Log.InfoContext(ctx, "fingerprinted idempotency keys again, keyed", "rekeyed", n)
	}
	n, err := s.Idempotency.Prune(ctx)
	if err != nil {
		s.Log.WarnContext(ctx, "prune idempotency keys", "error", err.Error())
		return
	}
	if n > 0 {
		s.Log.InfoContext(ctx, "pruned expired idempotency keys", "deleted", n)
	}
}

// Every calls fn each interval until ctx ends, for periodic tasks run with
// Go (sweepers, pruners, gauges).
func Every(ctx context.Context, interval time.Duration, fn func(context.Context)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			fn(ctx)
		}
	}
}

// OnClose registers fn to run when the service closes, before the
// connections it depends on (last registered, first run).
func (s *Service) OnClose(fn func() error) {
	s.closers = append(s.closers, fn)
}

// Addr is the bound HTTP address.
func (s *Service) Addr() string { return s.server.Addr() }

// Go adds a background task (a sweeper, a projector) that runs with the
// consumers; it must return when its context ends. A task that fails stops
// the service.
func (s *Service) Go(name string, fn func(ctx context.Context) error) {
	s.tasks = append(s.tasks, task{name, fn})
}

// Run serves until ctx ends (SIGTERM) or a part fails, then shuts down in
// order. It returns nil after a clean shutdown.
func (s *Service) Run(ctx context.Context) error {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()

	failed := make(chan error, len(s.tasks)+3)
	var work, relay sync.WaitGroup
	start := func(wg *sync.WaitGroup, ctx context.Context, name string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				failed <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	start(&relay, relayCtx, "outbox relay", s.relay.Run)
	if s.Consumer != nil {
		start(&work, workCtx, "consumer", s.Consumer.Run)
	}
	for _, t := range s.tasks {
		start(&work, workCtx, t.name, t.fn)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.server.Serve() }()
	if s.Config.PprofAddr != "" {
		go s.servePprof()
	}
	s.Log.Info("service started", "addr", s.Addr(), "consumes", s.Consumer != nil)

	var cause error
	select {
	case <-ctx.Done():
		s.Log.Info("shutting down", "reason", context.Cause(ctx))
	case cause = <-failed:
		s.Log.Error("a component failed; shutting down", "error", cause.Error())
	case cause = <-serveErr:
		s.Log.Error("http server failed; shutting down", "error", cause.Error())
	}

	s.health.Drain()
	s.Wakeup.Drain() // long polls answer now instead of holding the shutdown
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.server.Shutdown(shutdownCtx); err != nil {
		errs = append(errs, err)
	}
	stopWork()
	if !waitGroup(&work, shutdownCtx) {
		errs = append(errs, errors.New("consumers and tasks did not stop in time"))
	}
	stopRelay()
	if !waitGroup(&relay, shutdownCtx) {
		errs = append(errs, errors.New("outbox relay did not stop in time"))
	}
	if cause != nil {
		return errors.Join(append([]error{cause}, errs...)...)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.Log.Info("stopped cleanly")
	return nil
}

// servePprof serves the runtime profiles on their own (private) address.
func (s *Service) servePprof() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: s.Config.PprofAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.Log.Info("pprof listening", "addr", s.Config.PprofAddr)
	if err := srv.ListenAndServe(); err != nil {
		s.Log.Warn("pprof server stopped", "error", err.Error())
	}
}

// Close releases connections, in reverse order of opening.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil && s.Log != nil {
			s.Log.Warn("close", "error", err.Error())
		}
	}
	s.closers = nil
}

func waitGroup(wg *sync.WaitGroup, ctx context.Context) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// permanent is an error of a retry's fn that waiting cannot cure.
type permanent struct{ error }

// retry calls fn until it succeeds, fails permanently, or timeout passes,
// logging each failure.
func retry(ctx context.Context, timeout time.Duration, log *slog.Logger, what string, fn func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	wait := 200 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := fn(attemptCtx)
		cancel()
		if err == nil {
			return nil
		}
		var stop permanent
		if errors.As(err, &stop) {
			return fmt.Errorf("%s: %w", what, stop.error)
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%s not available after %s: %w", what, timeout, err)
		}
		log.Warn(what+" not available yet; retrying", "error", err.Error(), "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
