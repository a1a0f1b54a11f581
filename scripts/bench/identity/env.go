package main

import (
	"context"
	"fmt"

	"github.com/shop-oss/shop/scripts/bench/internal/benchenv"
)

// startIdentity runs the identity service (of target) as its own
// process, as it runs in a deployment, on a fresh database beside a
// private Redis and broker, with every login limit off (the bench logs in
// as fast as it can from one address).
func startIdentity(ctx context.Context, target benchenv.Target, cost int) (*benchenv.Env, string, error) {
	env, svc, err := benchenv.ForService(ctx, "identity", target)
	if err != nil {
		return nil, "", err
	}
	addr, err := benchenv.FreeAddr()
	if err != nil {
		env.Close()
		return nil, "", err
	}
	p, err := env.StartService(svc.Bin, map[string]string{
		"SHOP_HTTP_ADDR":                           addr,
		"SHOP_JWKS_URL":                            "http://" + addr + "/.well-known/jwks.json",
		"SHOP_DATABASE_URL":                        svc.DatabaseURL,
		"SHOP_LOG_LEVEL":                           "error",
		"SHOP_IDENTITY_BCRYPT_COST":                fmt.Sprint(cost),
		"SHOP_IDENTITY_LOGIN_PER_MINUTE":           "0",
		"SHOP_IDENTITY_REGISTER_PER_MINUTE":        "0",
		"SHOP_IDENTITY_LOGIN_MAX_ADDRESS_FAILURES": "0",
		"SHOP_IDENTITY_LOGIN_MAX_CLIENT_FAILURES":  "0",
		"SHOP_IDENTITY_LOGIN_SLOWDOWN":             "0s",
	})
	if err != nil {
		env.Close()
		return nil, "", err
	}
	return env, p.URL, nil
}
