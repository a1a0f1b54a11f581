package order

import (
	"context"
	"fmt"
	"time"
)

// Stats returns the dashboard figures (admins only): orders per status and
// revenue, for orders created in [from, to), and the stuck orders now.
func (s *Service) Stats(ctx context.Context, actor Actor, from, to time.Time) (Stats, error) {
	if !actor.IsAdmin() {
		return Stats{}, fmt.Errorf("order stats: %w", ErrForbidden)
	}
	if err := validateFilter(Filter{From: from, To: to}); err != nil {
		return Stats{}, err
	}
	counts, revenue, err := s.store.Counts(ctx, from, to)
	if err != nil {
		return Stats{}, fmt.Errorf("order stats: %w", err)
	}
	stuck, err := s.StuckCounts(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Counts: make(map[Status]int64, len(Statuses)), Revenue: revenue, Stuck: stuck}
	for _, st := range Statuses {
		out.Counts[st] = counts[st]
	}
	return out, nil
}

// StatusCounts counts the orders in each status now, every status present
// (zero included): the orders-per-status gauge's figures.
func (s *Service) StatusCounts(ctx context.Context) (map[Status]int64, error) {
	counts, _, err := s.store.Counts(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	out := make(map[Status]int64, len(Statuses))
	for _, st := range Statuses {
		out[st] = counts[st]
	}
	return out, nil
}

// StuckCounts counts, per status with an SLA, the orders that have been in
// it longer (every status with an SLA is present, zero included).
func (s *Service) StuckCounts(ctx context.Context) (map[Status]int64, error) {
	counts, err := s.store.CountStuck(ctx, s.stuckCutoffs())
	if err != nil {
		return nil, fmt.Errorf("count stuck orders: %w", err)
	}
	out := make(map[Status]int64, len(s.cfg.SLAs))
	for st := range s.cfg.SLAs {
		out[st] = counts[st]
	}
	return out, nil
}

// SLAStatuses lists the statuses that have an SLA, in saga order.
func (s *Service) SLAStatuses() []Status {
	var out []Status
	for _, st := range Statuses {
		if _, ok := s.cfg.SLAs[st]; ok {
			out = append(out, st)
		}
	}
	return out
}

func (s *Service) stuckCutoffs() map[Status]time.Time {
	now := s.now()
	out := make(map[Status]time.Time, len(s.cfg.SLAs))
	for st, sla := range s.cfg.SLAs {
		out[st] = now.Add(-sla)
	}
	return out
}
