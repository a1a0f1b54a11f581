package identitydb

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/services/identity/internal/keys"
)

// keysLock is the advisory-lock ID that serialises key creation and
// rotation across replicas ("identity signing keys", arbitrary but fixed).
const keysLock = 0x1d_5167_4b65_7973

// keyRow is the signing_keys table.
type keyRow struct {
	Kid         string `gorm:"primaryKey;column:kid"`
	Algorithm   string
	PublicKey   []byte
	PrivateKey  []byte
	Encryption  string
	Source      string
	CreatedAt   time.Time
	ActivatesAt time.Time
}

func (keyRow) TableName() string { return "signing_keys" }

// Keys implements keys.Store.
func (s *Store) Keys(ctx context.Context) ([]keys.Record, error) { return keyQueries{s.db}.Keys(ctx) }

// Exclusive implements keys.Store with a transaction-scoped advisory lock.
func (s *Store) Exclusive(ctx context.Context, fn func(keys.TxStore) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", keysLock).Error; err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		return fn(keyQueries{tx})
	})
}

// DeleteKeys implements keys.Store.
func (s *Store) DeleteKeys(ctx context.Context, ids []string) error {
	if err := s.db.WithContext(ctx).Where("kid IN ?", ids).Delete(&keyRow{}).Error; err != nil {
		return fmt.Errorf("delete signing keys: %w", err)
	}
	return nil
}

type keyQueries struct {
	db *gorm.DB
}

func (q keyQueries) Keys(ctx context.Context) ([]keys.Record, error) {
	var rows []keyRow
	if err := q.db.WithContext(ctx).Order("activates_at, created_at, kid").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	out := make([]keys.Record, len(rows))
	for i, r := range rows {
		out[i] = keys.Record{ID: r.Kid, Algorithm: r.Algorithm, Public: r.PublicKey, Private: r.PrivateKey,
			Encryption: r.Encryption, Source: r.Source, CreatedAt: r.CreatedAt.UTC(), ActivatesAt: r.ActivatesAt.UTC()}
	}
	return out, nil
}

func (q keyQueries) InsertKey(ctx context.Context, r keys.Record) error {
	row := keyRow{Kid: r.ID, Algorithm: r.Algorithm, PublicKey: r.Public, PrivateKey: r.Private,
		Encryption: r.Encryption, Source: r.Source, CreatedAt: r.CreatedAt, ActivatesAt: r.ActivatesAt}
	if err := q.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("insert signing key: %w", err)
	}
	return nil
}
