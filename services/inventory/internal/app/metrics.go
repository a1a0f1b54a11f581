package app

import "github.com/prometheus/client_golang/prometheus"

// newExpiries returns the sweeper's hook that counts expired reservations
// in inventory_reservations_expired_total, registered on reg.
func newExpiries(reg prometheus.Registerer) func(n int) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "inventory_reservations_expired_total",
		Help: "Reservations the sweeper expired unpaid (each publishes RESERVATION_EXPIRED).",
	})
	reg.MustRegister(c)
	return func(n int) { c.Add(float64(n)) }
}
