package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/services/payment/internal/app"
)

func TestSeedPrintsTheTestCardsIdempotently(t *testing.T) {
	var cfg app.Config
	if err := config.Load(&cfg, "payment", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	var first, second bytes.Buffer
	if err := seed(cfg, &first); err != nil {
		t.Fatal(err)
	}
	if err := seed(cfg, &second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(first.String()), "\n")
	if first.String() != second.String() || len(lines) != 5 {
		t.Fatalf("seed output:\n%s\nthen:\n%s", first.String(), second.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "demo payment test card 4") {
			t.Errorf("line %q", l)
		}
	}
}

func TestConfigRejectsBadRetrySettings(t *testing.T) {
	var cfg app.Config
	err := config.Load(&cfg, "payment", map[string]string{"SHOP_PAYMENT_GATEWAY_MAX_ATTEMPTS": "0"})
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "SHOP_PAYMENT_GATEWAY") {
		t.Fatalf("0 attempts: %v", err)
	}
}
