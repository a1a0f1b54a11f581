package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// countingHasher records which hashes were compared; "right" matches.
type countingHasher struct {
	compared [][]byte
}

func (h *countingHasher) Hash(password string) ([]byte, error) {
	return []byte("hash:" + password), nil
}

func (h *countingHasher) Compare(hash []byte, password string) error {
	h.compared = append(h.compared, hash)
	if string(hash) == "hash:"+password {
		return nil
	}
	return ErrPasswordMismatch
}

func (h *countingHasher) NeedsRehash([]byte) bool { return false }

// memStore holds users in memory and records audit records; the methods
// these tests do not reach are left to the embedded nil interfaces (a call
// would panic, failing the test).
type memStore struct {
	Store
	users   map[string]User
	records []AuditRecord
}

func (m *memStore) UserByEmail(_ context.Context, email string) (User, error) {
	u, ok := m.users[email]
	if !ok {
		return User{}, ErrUserNotFound
	}
	return u, nil
}

func (m *memStore) InTx(_ context.Context, fn func(Tx) error) error { return fn(&memTx{m: m}) }

type memTx struct {
	Tx
	m *memStore
}

func (t *memTx) UserByEmail(ctx context.Context, email string) (User, error) {
	return t.m.UserByEmail(ctx, email)
}

func (t *memTx) Record(_ context.Context, r AuditRecord) error {
	t.m.records = append(t.m.records, r)
	return nil
}

// fixedThrottle reports a fixed pressure and counts failures.
type fixedThrottle struct {
	p      LoginPressure
	failed int
}

func (f *fixedThrottle) Pressure(context.Context, string, string) (LoginPressure, error) {
	return f.p, nil
}
func (f *fixedThrottle) Failed(context.Context, string, string) error {
	f.failed++
	return nil
}
func (f *fixedThrottle) Succeeded(context.Context, string, string) error { return nil }

func newTestService(t *testing.T, th LoginThrottle) (*Service, *memStore, *countingHasher) {
	t.Helper()
	store := &memStore{users: map[string]User{
		"known@example.com": {ID: uuid.Must(uuid.NewV7()), Email: "known@example.com", Role: RoleCustomer,
			PasswordHash: []byte("hash:the right password")},
	}}
	h := &countingHasher{}
	svc, err := NewService(Deps{Store: store, Hasher: h, Throttle: th}, Settings{
		AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: time.Hour,
		Throttle: ThrottlePolicy{MaxAddressFailures: 5, MaxClientFailures: 50, SlowAfter: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, h
}

// An unknown email costs a password comparison (against the dummy hash),
// like a wrong password, and answers the same error.
func TestLoginUnknownEmailDoesTheSameWork(t *testing.T) {
	th := &fixedThrottle{}
	svc, store, h := newTestService(t, th)
	ctx := context.Background()

	_, errUnknown := svc.Login(ctx, LoginInput{Email: "nobody@example.com", Password: "the right password", ClientIP: "192.0.2.1"})
	_, errWrong := svc.Login(ctx, LoginInput{Email: "known@example.com", Password: "a wrong password", ClientIP: "192.0.2.1"})
	if !errors.Is(errUnknown, ErrInvalidCredentials) || !errors.Is(errWrong, ErrInvalidCredentials) || errUnknown.Error() != errWrong.Error() {
		t.Fatalf("unknown email: %v; wrong password: %v; want the same ErrInvalidCredentials", errUnknown, errWrong)
	}
	if len(h.compared) != 2 {
		t.Fatalf("%d password comparisons, want one per attempt", len(h.compared))
	}
	if string(h.compared[0]) != string(svc.dummyHash) {
		t.Errorf("unknown email compared against %q, want the dummy hash", h.compared[0])
	}
	if th.failed != 2 {
		t.Errorf("%d failures counted, want 2", th.failed)
	}
	if len(store.records) != 2 {
		t.Fatalf("%d audit records, want 2", len(store.records))
	}
	unknown, wrong := store.records[0], store.records[1]
	if unknown.Action != ActionLoginFailed || unknown.UserID != uuid.Nil || unknown.Reason != ReasonInvalidCredentials ||
		unknown.EventKey() != EmailKey("nobody@example.com") {
		t.Errorf("unknown-email record = %+v", unknown)
	}
	if wrong.UserID != store.users["known@example.com"].ID || wrong.Reason != ReasonInvalidCredentials {
		t.Errorf("wrong-password record = %+v", wrong)
	}
}

// A login over 72 bytes never matches, even if bcrypt (which reads 72)
// would say it does.
func TestLoginRefusesOverlongPassword(t *testing.T) {
	svc, store, _ := newTestService(t, &fixedThrottle{})
	long := "the right password" + string(make([]byte, 80))
	u := store.users["known@example.com"]
	u.PasswordHash = []byte("hash:" + long)
	store.users["known@example.com"] = u
	if _, err := svc.Login(context.Background(), LoginInput{Email: "known@example.com", Password: long}); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("got %v, want ErrInvalidCredentials", err)
	}
}

// A throttled attempt is refused before any password is checked, and is
// audited as RATE_LIMITED.
func TestLoginThrottledChecksNoPassword(t *testing.T) {
	th := &fixedThrottle{p: LoginPressure{AddressFailures: 5, AddressRetryAfter: 42 * time.Second}}
	svc, store, h := newTestService(t, th)
	_, err := svc.Login(context.Background(), LoginInput{Email: "Known@example.com", Password: "the right password"})
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetrySeconds() != 42 {
		t.Fatalf("got %v, want a ThrottledError of 42 s", err)
	}
	if len(h.compared) != 0 {
		t.Error("a password was compared while throttled")
	}
	if len(store.records) != 1 || store.records[0].Reason != ReasonRateLimited || store.records[0].UserID == uuid.Nil {
		t.Errorf("records = %+v, want one RATE_LIMITED naming the user", store.records)
	}
}
