package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Encryption schemes of stored private keys.
const (
	EncryptionNone      = "none"
	EncryptionAESGCM256 = "aes-256-gcm"
)

// ErrSealedKeyWithoutKEK: a stored key is sealed but no key-encryption key
// is configured (or it is the wrong one).
var ErrSealedKeyWithoutKEK = errors.New("keys: stored signing key is encrypted; SHOP_IDENTITY_KEY_ENCRYPTION_KEY is missing or wrong")

// insert stores key, sealed when a key-encryption key is configured.
func (k *Keyring) insert(ctx context.Context, tx TxStore, key Key) error {
	rec := Record{ID: key.ID, Algorithm: Algorithm, Public: key.Public, Private: key.private.Seed(),
		Encryption: EncryptionNone, Source: key.Source, CreatedAt: key.CreatedAt, ActivatesAt: key.ActivatesAt}
	if k.cfg.EncryptionKey != nil {
		sealed, err := seal(k.cfg.EncryptionKey, rec.Private, []byte(rec.ID))
		if err != nil {
			return err
		}
		rec.Private, rec.Encryption = sealed, EncryptionAESGCM256
	}
	if err := tx.InsertKey(ctx, rec); err != nil {
		return fmt.Errorf("store signing key %s: %w", key.ID, err)
	}
	return nil
}

// open turns a stored record into a Key, checking that the private key
// matches the public one.
func (k *Keyring) open(r Record) (Key, error) {
	seed := r.Private
	switch r.Encryption {
	case EncryptionNone:
	case EncryptionAESGCM256:
		if k.cfg.EncryptionKey == nil {
			return Key{}, fmt.Errorf("key %s: %w", r.ID, ErrSealedKeyWithoutKEK)
		}
		var err error
		if seed, err = unseal(k.cfg.EncryptionKey, r.Private, []byte(r.ID)); err != nil {
			return Key{}, fmt.Errorf("key %s: %w", r.ID, ErrSealedKeyWithoutKEK)
		}
	default:
		return Key{}, fmt.Errorf("key %s: unknown encryption %q", r.ID, r.Encryption)
	}
	if r.Algorithm != Algorithm || len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("key %s: not an Ed25519 key", r.ID)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	key := newKey(priv, r.Source, r.CreatedAt)
	if key.ID != r.ID || !key.Public.Equal(ed25519.PublicKey(r.Public)) {
		return Key{}, fmt.Errorf("key %s: private key does not match its ID", r.ID)
	}
	key.ActivatesAt = r.ActivatesAt
	return key, nil
}

// seal encrypts plain with AES-256-GCM under kek, binding it to aad (the
// kid, so a sealed seed cannot be swapped onto another key's row). The
// nonce is prepended.
func seal(kek, plain, aad []byte) ([]byte, error) {
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

func unseal(kek, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("keys: sealed key too short")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
}

func newGCM(kek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: key-encryption key: %w", err)
	}
	return cipher.NewGCM(block)
}

// ParsePrivateKeyPEM reads an Ed25519 private key in PKCS #8 PEM ("BEGIN
// PRIVATE KEY", as `openssl genpkey -algorithm ed25519` writes).
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("keys: want a PEM \"PRIVATE KEY\" block (PKCS #8)")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: parse PKCS #8: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: want an Ed25519 key, got %T", key)
	}
	return priv, nil
}

// MarshalPrivateKeyPEM writes priv as PKCS #8 PEM (for tests and tooling).
func MarshalPrivateKeyPEM(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal PKCS #8: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
