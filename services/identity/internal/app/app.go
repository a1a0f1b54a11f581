// Package app wires the identity service: configuration, the shared service
// machinery of pkg/service, the store, the signing keys, the domain service,
// the HTTP routes and the background tasks. main and the tests build the
// service the same way, through New; Seed and RotateKey back the commands.
package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/ratelimit"
	"github.com/shop-oss/shop/pkg/revocation"
	"github.com/shop-oss/shop/pkg/service"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/identityapi"
	"github.com/shop-oss/shop/services/identity/internal/identitydb"
	"github.com/shop-oss/shop/services/identity/internal/keys"
	"github.com/shop-oss/shop/services/identity/internal/loginthrottle"
	"github.com/shop-oss/shop/services/identity/migrations"
)

// Options are what the caller adds to the configuration.
type Options struct {
	// LogOutput receives the JSON logs (stdout when nil).
	LogOutput io.Writer
}

// New builds the identity service, ready to Run: migrated database, signing
// keys (created on first start), the first administrator when configured,
// routes, and the key-maintenance and token-purge tasks.
func New(ctx context.Context, cfg Config, opts Options) (_ *service.Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fileKey, err := cfg.signingKey()
	if err != nil {
		return nil, err
	}
	svc, err := service.New(ctx, cfg.Common, service.Options{
		Migrations: migrations.FS,
		Publishes:  []string{eventsv1.TopicIdentity},
		Errors:     identityapi.Errors,
		LogOutput:  opts.LogOutput,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			svc.Close()
		}
	}()
	store := identitydb.New(svc.DB, svc.ReadDB)
	ring, err := keys.New(ctx, store, keysConfig(cfg, fileKey, svc.Log))
	if err != nil {
		return nil, err
	}
	if cfg.BcryptCost < 10 {
		svc.Log.Warn("bcrypt cost below 10: fine for tests, too weak for production", "cost", cfg.BcryptCost)
	}
	domain, err := identity.NewService(identity.Deps{
		Store:    store,
		Hasher:   identity.Bcrypt{Cost: cfg.BcryptCost},
		Signer:   ring,
		Throttle: loginthrottle.New(svc.Redis, cfg.LoginFailureWindow, svc.Log),
		Revoker:  revoker{svc: svc},
	}, settings(cfg))
	if err != nil {
		return nil, err
	}
	if err := bootstrapAdmin(ctx, cfg, domain, svc.Log); err != nil {
		return nil, err
	}
	identityapi.Mount(svc.Engine, svc.API, domain, svc.Auth, ring, limits(svc, cfg))
	svc.Go("signing keys", ring.Run)
	svc.Go("refresh-token purge", func(ctx context.Context) error {
		return service.Every(ctx, cfg.RefreshTokenPurge, func(ctx context.Context) {
			n, err := domain.PurgeExpired(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				svc.Log.WarnContext(ctx, "purge expired refresh tokens", "error", err.Error())
			case n > 0:
				svc.Log.InfoContext(ctx, "purged expired refresh tokens", "deleted", n)
			}
		})
	})
	return svc, nil
}

// revoker announces revocations on the Redis channel every service
// follows (pkg/revocation), and applies them to identity's own list at once.
type revoker struct{ svc *service.Service }

func (r revoker) Revoke(ctx context.Context, user uuid.UUID, generation int64, at time.Time) {
	rev := auth.Revocation{UserID: user.String(), Generation: generation, Until: at.Add(auth.RevocationLifetime)}
	r.svc.Revocations.Apply(time.Now(), rev)
	if err := revocation.Publish(context.WithoutCancel(ctx), r.svc.Redis, rev); err != nil {
		// identity.events carries it too; every service follows that.
		r.svc.Log.WarnContext(ctx, "announce revocation on Redis failed; it travels by identity.events",
			"user_id", user.String(), "error", err.Error())
	}
}

func settings(cfg Config) identity.Settings {
	return identity.Settings{
		AccessTokenTTL:  cfg.AccessTokenTTL,
		RefreshTokenTTL: cfg.RefreshTokenTTL,
		Throttle: identity.ThrottlePolicy{
			MaxAddressFailures: cfg.LoginMaxAddressFailures,
			MaxClientFailures:  cfg.LoginMaxClientFailures,
			SlowAfter:          cfg.LoginSlowAfter,
			Slowdown:           cfg.LoginSlowdown,
			MaxSlowdown:        cfg.LoginMaxSlowdown,
		},
	}
}

func keysConfig(cfg Config, fileKey ed25519.PrivateKey, log *slog.Logger) keys.Config {
	kek, _ := cfg.encryptionKey() // checked by Validate
	return keys.Config{
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AccessTokenTTL: cfg.AccessTokenTTL,
		PublishDelay: cfg.KeyPublishDelay, Rotation: cfg.KeyRotation, Reload: cfg.KeyReload,
		EncryptionKey: kek, FileKey: fileKey, Log: log,
	}
}

// limits are the per-client-IP limits of the /auth routes, each its own
// Limiter so that their budgets are independent.
func limits(svc *service.Service, cfg Config) identityapi.Limits {
	limit := func(name string, perMinute int) gin.HandlerFunc {
		if perMinute <= 0 {
			return nil
		}
		return ratelimit.New(svc.Redis, "identity-"+name, svc.Registry, svc.Log).
			Middleware(redis_rate.PerMinute(perMinute), ratelimit.ByClientIP)
	}
	return identityapi.Limits{
		Login:    limit("login", cfg.LoginPerMinute),
		Register: limit("register", cfg.RegisterPerMinute),
		Session:  limit("session", cfg.SessionPerMinute),
	}
}

// bootstrapAdmin creates the first administrator from the configuration
// (production's way to get one); an existing account is left alone.
func bootstrapAdmin(ctx context.Context, cfg Config, domain *identity.Service, log *slog.Logger) error {
	if cfg.AdminEmail == "" {
		return nil
	}
	u, created, err := domain.EnsureUser(ctx, identity.NewUser{Email: cfg.AdminEmail, Password: cfg.AdminPassword,
		DisplayName: "Administrator", Role: identity.RoleAdmin})
	var ve *problem.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("SHOP_IDENTITY_ADMIN_EMAIL/SHOP_IDENTITY_ADMIN_PASSWORD: %w", err)
	}
	if err != nil {
		return fmt.Errorf("create the first administrator: %w", err)
	}
	switch {
	case created:
		log.InfoContext(ctx, "first administrator created", "user_id", u.ID.String())
	case u.Role != identity.RoleAdmin:
		log.WarnContext(ctx, "SHOP_IDENTITY_ADMIN_EMAIL names an existing account that is not an administrator; left unchanged",
			"user_id", u.ID.String())
	}
	return nil
}

// withDatabase runs fn, a command that runs beside (or before) the
// service, on the service's database, created and migrated when needed:
// its own tables and the outbox, which the commands write to.
func withDatabase(ctx context.Context, cfg Config, fn func(db *gorm.DB) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.DatabaseCreate {
		if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	for _, set := range []struct {
		fsys  fs.FS
		table string
	}{{migrations.FS, "schema_migrations"}, {outbox.Migrations(), outbox.MigrationsTable}} {
		if err := database.Migrate(ctx, cfg.DatabaseURL, set.fsys, set.table); err != nil {
			return err
		}
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 4, MaxIdle: 2}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer database.Close(db)
	return fn(db)
}

// DemoUser is one of the demo accounts that `identity seed` creates. The
// IDs are fixed so that other services' seeds can refer to them.
type DemoUser struct {
	ID          uuid.UUID
	Email       string
	Password    string
	DisplayName string
	Role        identity.Role
}

// DemoUsers are the demo accounts.
var DemoUsers = []DemoUser{
	{uuid.MustParse("00000000-0000-7000-8000-000000000001"), "admin@shop.local", "admin-demo-pass", "Demo Admin", identity.RoleAdmin},
	{uuid.MustParse("00000000-0000-7000-8000-000000000002"), "seller@shop.local", "seller-demo-pass", "Demo Seller", identity.RoleSeller},
	{uuid.MustParse("00000000-0000-7000-8000-000000000003"), "customer@shop.local", "customer-demo-pass", "Demo Customer", identity.RoleCustomer},
}

// Seed creates the demo users unless they exist (idempotent) and prints
// their logins ("demo login: ..." lines, which `make up` shows).
func Seed(ctx context.Context, cfg Config, out io.Writer) error {
	if err := cfg.ForbidInProduction("identity seed"); err != nil {
		return err
	}
	return withDatabase(ctx, cfg, func(db *gorm.DB) error { return seed(ctx, cfg, db, out) })
}

func seed(ctx context.Context, cfg Config, db *gorm.DB, out io.Writer) error {
	domain, err := identity.NewService(identity.Deps{Store: identitydb.New(db, nil),
		Hasher: identity.Bcrypt{Cost: cfg.BcryptCost}}, settings(cfg))
	if err != nil {
		return err
	}
	created := 0
	for _, d := range DemoUsers {
		_, isNew, err := domain.EnsureUser(ctx, identity.NewUser{ID: d.ID, Email: d.Email, Password: d.Password,
			DisplayName: d.DisplayName, Role: d.Role})
		if err != nil {
			return fmt.Errorf("seed %s: %w", d.Email, err)
		}
		if isNew {
			created++
		}
	}
	fmt.Fprintf(out, "identity seed: %d demo users created, %d already there\n", created, len(DemoUsers)-created)
	for _, d := range DemoUsers {
		fmt.Fprintf(out, "demo login: %s / %s (%s)\n", d.Email, d.Password, d.Role)
	}
	return seedShoppers(ctx, domain, out)
}

// RotateKey creates a new signing key that the running replicas publish at
// once and sign with after SHOP_IDENTITY_KEY_PUBLISH_DELAY; the previous key
// stays published until its tokens have expired.
func RotateKey(ctx context.Context, cfg Config, out io.Writer) error {
	fileKey, err := cfg.signingKey()
	if err != nil {
		return err
	}
	return withDatabase(ctx, cfg, func(db *gorm.DB) error {
		ring, err := keys.New(ctx, identitydb.New(db, nil), keysConfig(cfg, fileKey, nil))
		if err != nil {
			return err
		}
		key, err := ring.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "new signing key %s activates at %s; the previous key stays published until its tokens expire\n",
			key.ID, key.ActivatesAt.Format(time.RFC3339))
		return nil
	})
}
