// Package app wires the payment service: configuration, the shared service
// machinery (database, broker, HTTP, consumer), the gateway, the payment
// rules, their routes and event handlers. main and the tests both build the
// service through New.
package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/payment/internal/gateway"
	"github.com/shop-oss/shop/services/payment/internal/payment"
	"github.com/shop-oss/shop/services/payment/internal/paymentapi"
	"github.com/shop-oss/shop/services/payment/internal/paymentdb"
	"github.com/shop-oss/shop/services/payment/internal/paymentevents"
	"github.com/shop-oss/shop/services/payment/migrations"
)

// Config is the payment service's configuration: the common SHOP_*
// variables and the gateway's SHOP_PAYMENT_* settings.
type Config struct {
	config.Common

	// Charge retries: attempts in all, the first backoff (doubling after
	// each attempt, no jitter) and its cap, and each attempt's timeout.
	GatewayMaxAttempts    int           `env:"SHOP_PAYMENT_GATEWAY_MAX_ATTEMPTS" envDefault:"4"`
	GatewayBackoff        time.Duration `env:"SHOP_PAYMENT_GATEWAY_BACKOFF" envDefault:"50ms"`
	GatewayBackoffMax     time.Duration `env:"SHOP_PAYMENT_GATEWAY_BACKOFF_MAX" envDefault:"1s"`
	GatewayAttemptTimeout time.Duration `env:"SHOP_PAYMENT_GATEWAY_ATTEMPT_TIMEOUT" envDefault:"2s"`
	// The simulated gateway: how many attempts the timeout-then-success
	// card (4000000000000119) times out before it succeeds, and the latency
	// added to each call.
	GatewayTimeoutFailures int           `env:"SHOP_PAYMENT_GATEWAY_TIMEOUT_FAILURES" envDefault:"2"`
	GatewayLatency         time.Duration `env:"SHOP_PAYMENT_GATEWAY_LATENCY" envDefault:"0s"`
	// ConfirmPerMinute is each user's budget of POST /payments/confirm per
	// minute, in Redis across replicas (429 past it): card testing tries
	// card numbers one after another. 0 disables.
	ConfirmPerMinute int `env:"SHOP_PAYMENT_CONFIRM_PER_MINUTE" envDefault:"10"`
}

// Retry is the charge retry policy the configuration describes.
func (c Config) Retry() payment.RetryPolicy {
	return payment.RetryPolicy{
		MaxAttempts: c.GatewayMaxAttempts, BaseDelay: c.GatewayBackoff,
		MaxDelay: c.GatewayBackoffMax, AttemptTimeout: c.GatewayAttemptTimeout,
	}
}

// Validate checks the payment settings.
func (c Config) Validate() error {
	if err := c.Retry().Validate(); err != nil {
		return fmt.Errorf("SHOP_PAYMENT_GATEWAY_*: %w", err)
	}
	if c.GatewayTimeoutFailures < 0 || c.GatewayLatency < 0 {
		return fmt.Errorf("SHOP_PAYMENT_GATEWAY_TIMEOUT_FAILURES and SHOP_PAYMENT_GATEWAY_LATENCY must not be negative")
	}
	if c.ConfirmPerMinute < 0 {
		return fmt.Errorf("SHOP_PAYMENT_CONFIRM_PER_MINUTE: must be 0 (off) or positive, got %d", c.ConfirmPerMinute)
	}
	return nil
}

// Gateway is the simulated gateway the configuration describes.
func (c Config) Gateway() gateway.Simulated {
	return gateway.Simulated{TimeoutFailures: c.GatewayTimeoutFailures, Latency: c.GatewayLatency}
}

// Options adjust the service for tests.
type Options struct {
	// LogOutput receives the JSON logs (stdout when nil).
	LogOutput io.Writer
	// Gateway replaces the simulated gateway (a test wraps it to count
	// charges); it is instrumented all the same.
	Gateway payment.Gateway
	// Now replaces the clock of the payment rules.
	Now func() time.Time
	// WaitRecheck replaces how often a long poll looks again without a
	// wake-up (a test sets it long, to prove the wake-up).
	WaitRecheck time.Duration
}

// New builds the payment service, ready to Run.
func New(ctx context.Context, cfg Config, opts Options) (*service.Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	svc, err := service.New(ctx, cfg.Common, service.Options{
		Migrations: migrations.FS,
		Publishes:  []string{eventsv1.TopicPayment},
		Consumes:   []string{eventsv1.TopicInventory, eventsv1.TopicOrder},
		Errors:     paymentapi.Errors,
		LogOutput:  opts.LogOutput,
		LongPolls:  true, // GET /payments?orderId= with Prefer: wait
	})
	if err != nil {
		return nil, err
	}
	gw := opts.Gateway
	if gw == nil {
		gw = cfg.Gateway()
	}
	payments, err := payment.New(payment.Options{
		Store:       paymentdb.New(svc.DB, svc.ReadDB),
		Gateway:     gateway.Instrument(gw, svc.Registry),
		Retry:       cfg.Retry(),
		Observer:    newOutcomes(svc.Registry),
		Waiter:      svc.Wakeup,
		WaitRecheck: opts.WaitRecheck,
		Log:         svc.Log,
		Now:         opts.Now,
	})
	if err != nil {
		svc.Close()
		return nil, err
	}
	var confirmLimit gin.HandlerFunc
	if cfg.ConfirmPerMinute > 0 {
		confirmLimit = svc.Limiter.MiddlewareFor("payment confirmations per user", redis_rate.PerMinute(cfg.ConfirmPerMinute), ratelimit.ByUserOrIP)
	}
	paymentapi.Mount(svc.API, auth.Authenticate(svc.Auth), svc.Idempotent(), confirmLimit, payments)
	paymentevents.New(payments, svc.Wakeup.Notify).Register(svc.Consumer)
	return svc, nil
}

// outcomes counts payment outcomes: payments_total{outcome, reason}.
type outcomes struct {
	c *prometheus.CounterVec
}

func newOutcomes(reg prometheus.Registerer) outcomes {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payments_total",
		Help: "Payment outcomes: initiated, succeeded, declined (the payment stays open), failed, voided, refunded; reason is the decline, failure, void or refund reason code.",
	}, []string{"outcome", "reason"})
	reg.MustRegister(c)
	return outcomes{c: c}
}

func (o outcomes) Outcome(outcome, reason string) { o.c.WithLabelValues(outcome, reason).Inc() }
