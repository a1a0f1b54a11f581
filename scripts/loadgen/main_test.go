package main

import (
	"strings"
	"testing"
	"time"
)

// Flags the run cannot use are refused before anything starts, each named.
func TestOptionsRefuseWhatTheRunCannotUse(t *testing.T) {
	good := options{customers: 64, duration: 30 * time.Second, products: 20, scarceStock: 100, history: 50000, bcryptCost: 10}
	if err := good.validate(); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	for flag, mutate := range map[string]func(*options){
		"-customers":    func(o *options) { o.customers = 0 },
		"-duration":     func(o *options) { o.duration = 0 },
		"-products":     func(o *options) { o.products = 0 },
		"-scarce-stock": func(o *options) { o.scarceStock = -1 },
		"-history":      func(o *options) { o.history = -5 },
		"-bcrypt-cost":  func(o *options) { o.bcryptCost = 3 },
		"-pprof-port":   func(o *options) { o.pprofPort = 70000 },
	} {
		o := good
		mutate(&o)
		if err := o.validate(); err == nil || !strings.HasPrefix(err.Error(), flag+" ") {
			t.Errorf("%s: %v, want an error naming it", flag, err)
		}
	}
}
