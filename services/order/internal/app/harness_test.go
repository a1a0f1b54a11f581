package app_test

import (
	"testing"

	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// env is the order service under test, with this package's own helpers.
type env struct{ *ordertest.Env }

func newEnv(t testing.TB, vars map[string]string) *env { return &env{ordertest.New(t, vars)} }
