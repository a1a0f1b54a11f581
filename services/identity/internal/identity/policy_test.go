package identity

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

func TestPasswordProblem(t *testing.T) {
	const email = "alice@example.com"
	tests := []struct {
		name, password, want string
	}{
		{"good", "correct horse battery", ""},
		{"exactly ten", "x9!kq2#mza", ""},
		{"empty", "", "is required"},
		{"nine characters", "x9!kq2#mz", "must have at least 10 characters"},
		{"ten multibyte characters", "äöüßéèêëïî", ""},
		{"over 72 bytes", strings.Repeat("ab", 37), "must have at most 72 bytes"},
		{"the email", "Alice@Example.com", "must not be your email address"},
		{"the email's local part", "alice", "must have at least 10 characters"},
		{"common", "Password123", "is too common; choose a less predictable password"},
		{"common, other case", "QWERTYUIOP", "is too common; choose a less predictable password"},
		{"one character repeated", "zzzzzzzzzzzz", "is too common; choose a less predictable password"},
		{"invalid UTF-8", "abcdefghij\xff", "must be valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PasswordProblem(tt.password, email); got != tt.want {
				t.Errorf("PasswordProblem(%q) = %q, want %q", tt.password, got, tt.want)
			}
		})
	}
	if got := PasswordProblem("longlocalpart", "longlocalpart@example.com"); got != "must not be your email address" {
		t.Errorf("local part as password: %q", got)
	}
}

func TestCommonPasswordListLoaded(t *testing.T) {
	if len(commonPasswords) < 100 {
		t.Fatalf("%d common passwords loaded, want the embedded list", len(commonPasswords))
	}
	for w := range commonPasswords {
		if len([]rune(w)) < MinPasswordLen {
			t.Errorf("%q is shorter than the length rule: dead entry", w)
		}
	}
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve *problem.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a validation error", err)
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestValidRegistrationNamesEveryBadField(t *testing.T) {
	_, _, _, err := validRegistration(RegisterInput{Email: "not-an-email", Password: "short", DisplayName: "  ", Role: "ADMIN"})
	got := fieldsOf(t, err)
	for _, f := range []string{"email", "password", "display_name", "role"} {
		if got[f] == "" {
			t.Errorf("field %s not named; got %v", f, got)
		}
	}
	if got["role"] != "must be CUSTOMER or SELLER" {
		t.Errorf("role message = %q", got["role"])
	}
}

func TestValidRegistrationNormalises(t *testing.T) {
	email, name, seller, err := validRegistration(RegisterInput{Email: "  Bob@Example.COM ", Password: "a long enough secret",
		DisplayName: "  Bob  "})
	if err != nil {
		t.Fatal(err)
	}
	if email != "bob@example.com" || name != "Bob" || seller {
		t.Errorf("got %q %q %v", email, name, seller)
	}
	if _, _, seller, _ := validRegistration(RegisterInput{Email: "s@example.com", Password: "a long enough secret",
		DisplayName: "S", Role: "SELLER"}); !seller {
		t.Error("SELLER asked, no seller application")
	}
}

func TestEmailProblem(t *testing.T) {
	for email, want := range map[string]string{
		"a@example.com":                     "",
		"admin@shop.local":                  "",
		"":                                  "is required",
		"a@localhost":                       "must be a valid email address",
		"Alice <a@example.com>":             "must be a valid email address",
		"a@@example.com":                    "must be a valid email address",
		"@example.com":                      "must be a valid email address",
		strings.Repeat("a", 250) + "@x.com": "must have at most 254 characters",
	} {
		if got := emailProblem(email); got != want {
			t.Errorf("emailProblem(%q) = %q, want %q", email, got, want)
		}
	}
}

func TestThrottlePolicyDecide(t *testing.T) {
	tp := ThrottlePolicy{MaxAddressFailures: 5, MaxClientFailures: 50, SlowAfter: 3,
		Slowdown: 100 * time.Millisecond, MaxSlowdown: time.Second}
	tests := []struct {
		name    string
		p       LoginPressure
		delay   time.Duration
		refused time.Duration
	}{
		{"fresh", LoginPressure{}, 0, 0},
		{"two failures", LoginPressure{AccountFailures: 2}, 0, 0},
		{"three failures", LoginPressure{AccountFailures: 3}, 100 * time.Millisecond, 0},
		{"four failures", LoginPressure{AccountFailures: 4}, 200 * time.Millisecond, 0},
		{"client failures slow too", LoginPressure{ClientFailures: 7}, time.Second, 0},
		{"capped", LoginPressure{ClientFailures: 40}, time.Second, 0},
		// An account is slowed down, never locked: only the address that
		// failed on it is refused.
		{"account under attack", LoginPressure{AccountFailures: 500}, time.Second, 0},
		{"address limit", LoginPressure{AccountFailures: 5, AddressFailures: 5, AddressRetryAfter: 90 * time.Second}, 0, 90 * time.Second},
		{"client limit", LoginPressure{ClientFailures: 50, ClientRetryAfter: 10 * time.Second}, 0, 10 * time.Second},
		{"both: the longer wait", LoginPressure{AddressFailures: 6, AddressRetryAfter: time.Minute,
			ClientFailures: 50, ClientRetryAfter: 2 * time.Minute}, 0, 2 * time.Minute},
		{"limit without TTL still waits", LoginPressure{AddressFailures: 5}, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delay, refused := tp.decide(tt.p)
			if delay != tt.delay {
				t.Errorf("delay = %s, want %s", delay, tt.delay)
			}
			var got time.Duration
			if refused != nil {
				got = refused.RetryAfter
			}
			if got != tt.refused {
				t.Errorf("refused for %s, want %s", got, tt.refused)
			}
		})
	}
}

func TestThrottledError(t *testing.T) {
	err := error(&ThrottledError{RetryAfter: 1500 * time.Millisecond})
	if !errors.Is(err, ErrLoginThrottled) {
		t.Error("not ErrLoginThrottled")
	}
	if got := err.(*ThrottledError).RetrySeconds(); got != 2 {
		t.Errorf("RetrySeconds = %d, want 2 (rounded up)", got)
	}
}

func TestValidProfileChange(t *testing.T) {
	u := User{Email: "carol@example.com"}
	s := func(v string) *string { return &v }
	tests := []struct {
		name   string
		ch     ProfileChange
		fields []string
	}{
		{"nothing", ProfileChange{}, []string{"display_name"}},
		{"name only", ProfileChange{DisplayName: s("Carol")}, nil},
		{"blank name", ProfileChange{DisplayName: s(" ")}, []string{"display_name"}},
		{"password without current", ProfileChange{NewPassword: s("another good secret")}, []string{"current_password"}},
		{"weak new password", ProfileChange{CurrentPassword: s("x"), NewPassword: s("password123")}, []string{"new_password"}},
		{"same password", ProfileChange{CurrentPassword: s("the same old secret"), NewPassword: s("the same old secret")},
			[]string{"new_password"}},
		{"current alone", ProfileChange{CurrentPassword: s("x")}, []string{"display_name", "current_password"}},
		{"good change", ProfileChange{CurrentPassword: s("old secret 123"), NewPassword: s("a new good secret")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validProfileChange(u, tt.ch)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			got := fieldsOf(t, err)
			for _, f := range tt.fields {
				if got[f] == "" {
					t.Errorf("field %s not named; got %v", f, got)
				}
			}
			if len(got) != len(tt.fields) {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	got, ok := decodeCursor(encodeCursor(id))
	if !ok || got != id {
		t.Fatalf("round trip: %v %v", got, ok)
	}
	for _, bad := range []string{"x", "!!!!", encodeCursor(id) + "AA"} {
		if _, ok := decodeCursor(bad); ok {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

func TestEventKey(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	if got := (AuditRecord{UserID: id, Email: "a@example.com"}).EventKey(); got != id.String() {
		t.Errorf("key with user = %q", got)
	}
	k1 := AuditRecord{Email: "a@example.com"}.EventKey()
	k2 := AuditRecord{Email: "a@example.com"}.EventKey()
	if k1 != k2 || strings.Contains(k1, "example") || !strings.HasPrefix(k1, "email-sha256:") {
		t.Errorf("unknown-email key %q / %q: want stable and not revealing the address", k1, k2)
	}
	if (AuditRecord{Email: "b@example.com"}).EventKey() == k1 {
		t.Error("two emails share a key")
	}
}

func TestRefreshTokenShape(t *testing.T) {
	tok, hash, err := newRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %d chars, want 43 of base64url", len(tok))
	}
	if !slices.Equal(hash, HashRefreshToken(tok)) || len(hash) != 32 {
		t.Error("hash is not SHA-256 of the token")
	}
	other, _, _ := newRefreshToken()
	if other == tok {
		t.Error("two tokens are equal")
	}
}
