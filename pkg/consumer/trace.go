package consumer

import (
	"context"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/shop-oss/shop/pkg/logging"
	"github.com/shop-oss/shop/pkg/tracing"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// HeaderReplayedTraceparent carries, on a replayed message, the traceparent
// the event had when it was dead-lettered (pkg/dlq writes it): the replay
// runs in the trace of the request that asked for it, and its spans link to
// the original trace.
const HeaderReplayedTraceparent = "dlq-replayed-traceparent"

// messageContext is ctx naming m for the log lines about it (topic,
// partition, offset, event ID and type from its headers, read even when the
// envelope is not valid).
func messageContext(ctx context.Context, m kafka.Message) context.Context {
	return logging.WithEvent(ctx, logging.Event{
		Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		ID:   headerValue(m.Headers, eventsv1.HeaderEventID),
		Type: headerValue(m.Headers, eventsv1.HeaderEventType),
	})
}

// eventContext is the context an event is handled and logged in: the
// message's log fields and the envelope's IDs, order and trace parent
// (event.Event.Context).
func (c *Consumer) eventContext(ctx context.Context, it item) context.Context {
	return it.e.Context(messageContext(ctx, it.msg))
}

// startSpan starts the span of one event's handling: a consumer span, the
// child of the span that emitted the event (its traceparent), linked to the
// original trace when it is a replay. Events the handler emits carry this
// span's traceparent.
func (c *Consumer) startSpan(ctx context.Context, it item) (context.Context, trace.Span) {
	ctx = c.eventContext(ctx, it)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
	if it.msg.Topic == c.cfg.RetryTopic {
		if sc, ok := tracing.Parse(headerValue(it.msg.Headers, HeaderReplayedTraceparent)); ok {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
				attribute.String("shop.link", "replay of a dead letter")}}))
		}
	}
	ctx, span := c.tracer.Start(ctx, it.e.Type+" process", opts...)
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", it.msg.Topic),
			attribute.String("messaging.consumer.group.name", c.cfg.Group),
			attribute.Int("messaging.destination.partition.id", it.msg.Partition),
			attribute.Int64("messaging.kafka.offset", it.msg.Offset),
			attribute.String("messaging.message.id", it.e.ID.String()),
			attribute.String("shop.event_type", it.e.Type),
		)
		if id := logging.OrderID(ctx); id != "" {
			span.SetAttributes(attribute.String("shop.order_id", id))
		}
	}
	return ctx, span
}

// endSpan ends a handling span with the handler's outcome.
func endSpan(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, "handler failed")
	}
	span.End()
}
