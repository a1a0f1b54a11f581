package app

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/services/identity/internal/keys"
)

// Config is the identity service's configuration: the common SHOP_*
// settings and its own SHOP_IDENTITY_* ones.
type Config struct {
	config.Common

	// BcryptCost is the work factor of password hashes: each +1 doubles
	// the time of a login. Tests use bcrypt.MinCost (4).
	BcryptCost int `env:"SHOP_IDENTITY_BCRYPT_COST" envDefault:"12"`

	AccessTokenTTL  time.Duration `env:"SHOP_IDENTITY_ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTokenTTL time.Duration `env:"SHOP_IDENTITY_REFRESH_TOKEN_TTL" envDefault:"336h"`

	// SigningKeyFile is an Ed25519 private key (PKCS #8 PEM) to sign with
	// instead of a generated one.
	SigningKeyFile string `env:"SHOP_IDENTITY_SIGNING_KEY_FILE"`
	// KeyEncryptionKey (base64 of 32 bytes) seals the private signing keys
	// stored in the database.
	KeyEncryptionKey string `env:"SHOP_IDENTITY_KEY_ENCRYPTION_KEY"`
	// KeyRotation is the age at which the signing key is replaced
	// automatically (e.g. 720h); 0 rotates only by `identity rotate-key`.
	KeyRotation time.Duration `env:"SHOP_IDENTITY_KEY_ROTATION" envDefault:"0"`
	// KeyPublishDelay is how long a new key is published before it signs;
	// it must exceed KeyReload so that every replica publishes it first.
	KeyPublishDelay time.Duration `env:"SHOP_IDENTITY_KEY_PUBLISH_DELAY" envDefault:"1m"`
	// KeyReload is how often replicas reread the signing keys.
	KeyReload time.Duration `env:"SHOP_IDENTITY_KEY_RELOAD" envDefault:"30s"`

	// AdminEmail and AdminPassword create the first administrator at
	// start-up when both are set and no account has that email.
	AdminEmail    string `env:"SHOP_IDENTITY_ADMIN_EMAIL"`
	AdminPassword string `env:"SHOP_IDENTITY_ADMIN_PASSWORD"`

	// Per-client-IP request limits of the /auth routes (0 disables one).
	LoginPerMinute    int `env:"SHOP_IDENTITY_LOGIN_PER_MINUTE" envDefault:"20"`
	RegisterPerMinute int `env:"SHOP_IDENTITY_REGISTER_PER_MINUTE" envDefault:"10"`
	SessionPerMinute  int `env:"SHOP_IDENTITY_SESSION_PER_MINUTE" envDefault:"60"`

	// Failed-login throttling (identity.ThrottlePolicy): after
	// LoginSlowAfter failures (per account from any address, or per
	// client, within LoginFailureWindow) attempts wait LoginSlowdown,
	// doubling per failure up to LoginMaxSlowdown; an address with
	// LoginMaxAddressFailures on one account is refused (429) for that
	// account, and one with LoginMaxClientFailures over all accounts for
	// every account, until the window ends. No account is ever locked.
	LoginFailureWindow      time.Duration `env:"SHOP_IDENTITY_LOGIN_FAILURE_WINDOW" envDefault:"15m"`
	LoginMaxAddressFailures int           `env:"SHOP_IDENTITY_LOGIN_MAX_ADDRESS_FAILURES" envDefault:"5"`
	LoginMaxClientFailures  int           `env:"SHOP_IDENTITY_LOGIN_MAX_CLIENT_FAILURES" envDefault:"50"`
	LoginSlowAfter          int           `env:"SHOP_IDENTITY_LOGIN_SLOW_AFTER" envDefault:"3"`
	LoginSlowdown           time.Duration `env:"SHOP_IDENTITY_LOGIN_SLOWDOWN" envDefault:"250ms"`
	LoginMaxSlowdown        time.Duration `env:"SHOP_IDENTITY_LOGIN_MAX_SLOWDOWN" envDefault:"2s"`

	// RefreshTokenPurge is how often expired refresh tokens are deleted.
	RefreshTokenPurge time.Duration `env:"SHOP_IDENTITY_REFRESH_TOKEN_PURGE" envDefault:"1h"`
}

// Load reads the configuration from environ (config.Environ() in main, a
// map in tests) and validates it.
func Load(environ map[string]string) (Config, error) {
	var cfg Config
	if err := config.Load(&cfg, "identity", environ); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks the SHOP_IDENTITY_* settings and names each bad variable.
// It never prints a secret's value.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		bad("SHOP_IDENTITY_BCRYPT_COST", "must be %d..%d, got %d", bcrypt.MinCost, bcrypt.MaxCost, c.BcryptCost)
	}
	// The cap bounds how long every service must remember a revocation
	// (auth.RevocationLifetime).
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > auth.MaxAccessTokenTTL {
		bad("SHOP_IDENTITY_ACCESS_TOKEN_TTL", "must be between 1m and %s, got %s", auth.MaxAccessTokenTTL, c.AccessTokenTTL)
	}
	if c.RefreshTokenTTL <= c.AccessTokenTTL {
		bad("SHOP_IDENTITY_REFRESH_TOKEN_TTL", "must exceed the access-token TTL, got %s", c.RefreshTokenTTL)
	}
	if _, err := c.encryptionKey(); err != nil {
		bad("SHOP_IDENTITY_KEY_ENCRYPTION_KEY", "%v", err)
	}
	if c.Production() {
		if c.KeyEncryptionKey == "" {
			bad("SHOP_IDENTITY_KEY_ENCRYPTION_KEY", "must be set with SHOP_ENV=production: without it the private signing keys lie in the database in clear")
		}
		if c.BcryptCost < 10 {
			bad("SHOP_IDENTITY_BCRYPT_COST", "must be at least 10 with SHOP_ENV=production, got %d", c.BcryptCost)
		}
	}
	if c.KeyRotation < 0 || (c.KeyRotation > 0 && c.KeyRotation < c.AccessTokenTTL) {
		bad("SHOP_IDENTITY_KEY_ROTATION", "must be 0 (manual) or at least the access-token TTL, got %s", c.KeyRotation)
	}
	if c.KeyRotation > 0 && c.SigningKeyFile != "" {
		bad("SHOP_IDENTITY_KEY_ROTATION", "cannot rotate a key given by SHOP_IDENTITY_SIGNING_KEY_FILE; rotate by replacing the file")
	}
	if c.KeyReload <= 0 {
		bad("SHOP_IDENTITY_KEY_RELOAD", "must be positive, got %s", c.KeyReload)
	}
	if c.KeyPublishDelay < 0 {
		bad("SHOP_IDENTITY_KEY_PUBLISH_DELAY", "must not be negative, got %s", c.KeyPublishDelay)
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("SHOP_IDENTITY_ADMIN_EMAIL", "and SHOP_IDENTITY_ADMIN_PASSWORD must be set together")
	}
	for name, v := range map[string]int{"SHOP_IDENTITY_LOGIN_PER_MINUTE": c.LoginPerMinute,
		"SHOP_IDENTITY_REGISTER_PER_MINUTE": c.RegisterPerMinute, "SHOP_IDENTITY_SESSION_PER_MINUTE": c.SessionPerMinute,
		"SHOP_IDENTITY_LOGIN_MAX_ADDRESS_FAILURES": c.LoginMaxAddressFailures,
		"SHOP_IDENTITY_LOGIN_MAX_CLIENT_FAILURES":  c.LoginMaxClientFailures, "SHOP_IDENTITY_LOGIN_SLOW_AFTER": c.LoginSlowAfter} {
		if v < 0 {
			bad(name, "must not be negative, got %d", v)
		}
	}
	if c.LoginFailureWindow <= 0 {
		bad("SHOP_IDENTITY_LOGIN_FAILURE_WINDOW", "must be positive, got %s", c.LoginFailureWindow)
	}
	if c.LoginSlowdown < 0 || c.LoginMaxSlowdown < c.LoginSlowdown {
		bad("SHOP_IDENTITY_LOGIN_SLOWDOWN", "must be 0..SHOP_IDENTITY_LOGIN_MAX_SLOWDOWN, got %s", c.LoginSlowdown)
	}
	if c.RefreshTokenPurge <= 0 {
		bad("SHOP_IDENTITY_REFRESH_TOKEN_PURGE", "must be positive, got %s", c.RefreshTokenPurge)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// encryptionKey decodes KeyEncryptionKey (nil when unset).
func (c Config) encryptionKey() ([]byte, error) {
	if c.KeyEncryptionKey == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(c.KeyEncryptionKey)
	if err != nil || len(k) != 32 {
		return nil, errors.New("must be the base64 encoding of 32 random bytes (openssl rand -base64 32)")
	}
	return k, nil
}

// signingKey reads SigningKeyFile (nil when unset).
func (c Config) signingKey() (ed25519.PrivateKey, error) {
	if c.SigningKeyFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("SHOP_IDENTITY_SIGNING_KEY_FILE: %w", err)
	}
	k, err := keys.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("SHOP_IDENTITY_SIGNING_KEY_FILE %s: %w", c.SigningKeyFile, err)
	}
	return k, nil
}
