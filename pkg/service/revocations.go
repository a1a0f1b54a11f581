package service

import (
	"context"
	"fmt"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// revocationTopic is where identity announces the changes that revoke a
// user's access tokens; every service consumes it.
const revocationTopic = eventsv1.TopicIdentity

// revocationGroup is the service's consumer group of revocationTopic. Its
// dead letters go to the service's DLQ and are replayed to its own retry
// topic (consumer.RetryTopic), both set up in openBroker.
func revocationGroup(service string) string { return service + ".revocations" }

// followRevocations gives the service its access-token revocation list
// (pkg/revocation): loaded from its own database before the first request,
// kept current by a consumer group of its own on identity.events (one
// worker: the events are rare, and every other type is skipped without a
// database write) and by the Redis channel identity publishes on.
func (s *Service) followRevocations(ctx context.Context) error {
	s.Revocations = auth.NewRevocations()
	s.revocations = revocation.New(s.DB, s.Redis, s.Revocations, s.Log)
	if err := s.revocations.Load(ctx); err != nil {
		return err
	}
	c := consumer.New(s.DB, s.Broker, consumer.Config{
		Group:    revocationGroup(s.Name),
		Topics:   []string{revocationTopic},
		DLQTopic: s.Name + ".dlq",
		Workers:  1,
		Tracer:   s.Tracing.Tracer(),
	}, s.Log, s.Registry)
	s.revocations.Register(c)
	s.Go("revocation consumer", func(ctx context.Context) error {
		if err := c.Run(ctx); err != nil {
			return fmt.Errorf("revocation consumer: %w", err)
		}
		return nil
	})
	s.Go("revocation feed", s.revocations.Run)
	return nil
}
