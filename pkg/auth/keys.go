package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// keySet is identity's public keys as this process knows them.
//
// It is the composition that keyfunc.NewDefaultOverrideCtx builds (a jwkset
// HTTP storage, refreshed in the background, behind a jwkset client that
// refreshes on an unknown kid under a rate limiter), with two changes:
//
//   - we keep the cache, so a known kid is looked up without any fetch and
//     an empty cache can be told apart from an unknown kid;
//   - a miss never blocks on the rate limiter: misses are handled one at a
//     time, a miss that finds the refresh budget spent fails at once, and
//     requests that queued behind a refresh see its result instead of
//     fetching again.
//
// The first fetch failing is not an error (NoErrorReturnFirstHTTPReq): the
// cache stays empty until the periodic or an on-demand refresh succeeds.
type keySet struct {
	cache  jwkset.Storage  // the keys last fetched; reading never fetches
	client jwkset.Storage  // reads the cache, refreshes it on a miss
	kf     keyfunc.Keyfunc // turns a JWK into the verification key
	budget *rate.Limiter   // on-demand refreshes; consumed by client
	misses chan struct{}   // a one-slot lock for handling misses
}

func newKeySet(ctx context.Context, cfg Config, log *slog.Logger) (*keySet, error) {
	onFetchError := func(ctx context.Context, err error) {
		log.WarnContext(ctx, "fetch JWKS failed", "consequence", "tokens signed with keys not yet fetched are rejected",
			"url", cfg.JWKSURL, "error", err.Error())
	}
	cache := jwkset.NewMemoryStorage()
	remote, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    &http.Client{Timeout: cfg.FetchTimeout},
		Ctx:                       ctx,
		HTTPTimeout:               cfg.FetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       onFetchError,
		RefreshInterval:           cfg.RefreshInterval,
		Storage:                   cache,
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS storage for %s: %w", cfg.JWKSURL, err)
	}
	budget := rate.NewLimiter(rate.Every(cfg.MinRefreshInterval), 1)
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{cfg.JWKSURL: remote},
		RateLimitWaitMax:  cfg.FetchTimeout, // also bounds the refresh request
		RefreshUnknownKID: budget,
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS client for %s: %w", cfg.JWKSURL, err)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: client})
	if err != nil {
		return nil, fmt.Errorf("keyfunc: %w", err)
	}
	return &keySet{cache: cache, client: client, kf: kf, budget: budget,
		misses: make(chan struct{}, 1)}, nil
}

// lookup is the jwt.Keyfunc of one verification: it returns the public key
// that t's kid names, fetching the key set first when the kid is new.
func (k *keySet) lookup(ctx context.Context, t *jwt.Token) (crypto.PublicKey, string, error) {
	kid, _ := t.Header[jwkset.HeaderKID].(string)
	if kid == "" {
		return nil, "", fmt.Errorf("%w: no kid header", ErrUnknownKey)
	}
	if !k.known(ctx, kid) {
		if err := k.fetchFor(ctx, kid); err != nil {
			return nil, kid, err
		}
	}
	key, err := k.kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		// The kid is known, so the JWK does not fit the token (its "alg"
		// differs): the token is not signed by the key it names.
		return nil, kid, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return key, kid, nil
}

// published reports whether key is still the key published as kid.
func (k *keySet) published(ctx context.Context, kid string, key crypto.PublicKey) bool {
	jwk, err := k.cache.KeyRead(ctx, kid)
	if err != nil {
		return false
	}
	current := jwk.Key()
	if priv, ok := current.(interface{ Public() crypto.PublicKey }); ok {
		current = priv.Public()
	}
	eq, ok := current.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(key)
}

func (k *keySet) known(ctx context.Context, kid string) bool {
	_, err := k.cache.KeyRead(ctx, kid)
	return err == nil
}

// fetchFor refreshes the key set once, if the budget allows, because a token
// names kid, which is not in the cache. It returns nil when kid is known
// afterwards.
func (k *keySet) fetchFor(ctx context.Context, kid string) error {
	select {
	case k.misses <- struct{}{}:
		defer func() { <-k.misses }()
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", k.missing(ctx), ctx.Err())
	}
	if k.known(ctx, kid) {
		return nil // the refresh we queued behind found it
	}
	if k.budget.Tokens() < 1 {
		return fmt.Errorf("%w: refresh budget spent", k.missing(ctx))
	}
	// The client spends the budget token, refreshes and reads again. The
	// refresh serves every later request too, so a caller going away must
	// not cancel it; RateLimitWaitMax bounds it.
	if _, err := k.client.KeyRead(context.WithoutCancel(ctx), kid); err != nil {
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return fmt.Errorf("%w: not in the refreshed key set", k.missing(ctx))
		}
		return fmt.Errorf("%w: %w", k.missing(ctx), err)
	}
	return nil
}

// missing is the reason a key cannot be found: no keys at all, or not this
// one.
func (k *keySet) missing(ctx context.Context) error {
	if all, err := k.cache.KeyReadAll(ctx); err != nil || len(all) == 0 {
		return ErrKeysUnavailable
	}
	return ErrUnknownKey
}
