package orderapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// StreamConfig bounds the order progress streams (GET /orders/{id}/events).
type StreamConfig struct {
	// Lifetime ends a stream after this long; the client reconnects (to
	// any replica) and resumes with Last-Event-ID, so no stream pins a
	// replica for ever.
	Lifetime time.Duration
	// Heartbeat is the longest a stream stays silent: a comment line then
	// keeps proxies and the browser from taking it for dead.
	Heartbeat time.Duration
	// Recheck is how often a stream reads the order without a wake-up: what
	// a wake-up lost with Redis costs at most.
	Recheck time.Duration
	// PerUser is how many streams one user may hold open in one replica.
	PerUser int
}

// Waiter wakes a stream when the order it watches changes (the service's
// wakeup.Hub). Until has wakeup.Hub.Until's contract; Draining is closed
// when the service shuts down.
type Waiter interface {
	Until(ctx context.Context, key string, d, recheck time.Duration, check func(context.Context) (bool, error)) (bool, error)
	Draining() <-chan struct{}
}

// SlugTooManyStreams is the problem type of a stream refused because the
// user holds PerUser streams already.
const SlugTooManyStreams = "too-many-streams"

// retryMillis is the reconnect delay a stream asks its client for.
const retryMillis = 2000

// writeTimeout bounds each write to a stream (the server's WriteTimeout
// would otherwise cut every stream after 30 s).
const writeTimeout = 10 * time.Second

type streams struct {
	svc *order.Service
	hub Waiter
	cfg StreamConfig
	log *slog.Logger

	mu   sync.Mutex
	open map[string]int // by user
}

// MountStreams adds an order's progress, as one answer
// (GET /orders/{id}/progress) and as a server-sent event stream
// (GET /orders/{id}/events), for whoever may see the order.
func MountStreams(api *gin.RouterGroup, verifier *auth.Verifier, svc *order.Service, hub Waiter, cfg StreamConfig, log *slog.Logger) {
	s := &streams{svc: svc, hub: hub, cfg: cfg, log: log, open: map[string]int{}}
	g := api.Group("/orders", auth.Authenticate(verifier))
	g.GET("/:id/progress", s.progress)
	g.GET("/:id/events", s.events)
}

// WakeAfter wakes the streams of the request's order (its :id) once the
// handler has answered with a success: the change is committed by then.
func WakeAfter(changed func(orderID string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if changed != nil && c.Writer.Status() < http.StatusMultipleChoices {
			changed(c.Param("id"))
		}
	}
}

type progressJSON struct {
	Version              int         `json:"version"`
	Order                orderJSON   `json:"order"`
	ReservationExpiresAt *time.Time  `json:"reservation_expires_at,omitempty"`
	Timeline             []entryJSON `json:"timeline"`
}

func toProgress(p order.Progress) progressJSON {
	return progressJSON{
		Version: p.Version, Order: toOrder(p.Order), ReservationExpiresAt: p.ReservationExpiresAt,
		Timeline: toTimeline(p.Order.ID, p.Timeline).Entries,
	}
}

// progress is the plain fetch: the stream's fallback, and its first look.
func (s *streams) progress(c *gin.Context) {
	p, err := s.svc.Progress(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toProgress(p))
}

// admit counts a stream of user; release gives its place back.
func (s *streams) admit(user string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[user] >= s.cfg.PerUser {
		return nil, false
	}
	s.open[user]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.open[user]--; s.open[user] <= 0 {
			delete(s.open, user)
		}
	}, true
}

// events streams the order's progress: an event "progress" (id: the
// progress version, data: what GET /progress answers) whenever it changes,
// a comment at least every Heartbeat, and "end" once the order is final.
// A client that reconnects with Last-Event-ID gets the progress only if
// it changed since. Each event carries the whole progress, so a client
// that missed some (a reconnect) is whole again with the next.
func (s *streams) events(c *gin.Context) {
	ctx := c.Request.Context()
	who, id := actor(c), c.Param("id")
	p, err := s.svc.Progress(ctx, who, id)
	if err != nil {
		if ctx.Err() != nil {
			return // the client left while the order was read (a page moving on): no answer to give
		}
		web.Fail(c, err)
		return
	}
	release, ok := s.admit(who.ID)
	if !ok {
		c.Header("Retry-After", strconv.Itoa(retryMillis/1000))
		web.WriteProblem(c, problem.New(http.StatusTooManyRequests, SlugTooManyStreams, "Too many open streams",
			fmt.Sprintf("At most %d order streams may be open per user; close one first.", s.cfg.PerUser)))
		return
	}
	defer release()

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	var buf bytes.Buffer
	flush := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := c.Writer.Write(buf.Bytes())
		buf.Reset()
		return err == nil && rc.Flush() == nil
	}

	sent := -1
	if v, err := strconv.Atoi(c.GetHeader("Last-Event-ID")); err == nil {
		sent = v
	}
	fmt.Fprintf(&buf, "retry: %d\n\n", retryMillis)
	deadline := time.Now().Add(s.cfg.Lifetime)
	for {
		if p.Version != sent {
			data, err := json.Marshal(toProgress(p))
			if err != nil {
				s.log.ErrorContext(ctx, "render order progress", "order_id", id, "error", err.Error())
				return
			}
			fmt.Fprintf(&buf, "id: %d\nevent: progress\ndata: %s\n\n", p.Version, data)
			sent = p.Version
		}
		if p.Final() {
			buf.WriteString("event: end\ndata: {}\n\n")
			flush()
			return
		}
		if !flush() {
			return // the client went away
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		changed, err := s.hub.Until(ctx, id, min(left, s.cfg.Heartbeat), s.cfg.Recheck, func(ctx context.Context) (bool, error) {
			next, err := s.svc.Progress(ctx, who, id)
			if err != nil {
				return true, err
			}
			p = next
			return next.Version != sent, nil
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "order stream ends: reading the order failed", "order_id", id, "error", err.Error())
			}
			return
		}
		select {
		case <-s.hub.Draining():
			flush()
			return // shutting down: the client reconnects elsewhere
		default:
		}
		if !changed {
			buf.WriteString(": keep-alive\n\n")
		}
	}
}
