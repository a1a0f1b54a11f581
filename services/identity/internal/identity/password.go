package identity

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password policy limits.
const (
	// MinPasswordLen is counted in characters: length is what makes a
	// password hard to guess.
	MinPasswordLen = 10
	// MaxPasswordBytes is bcrypt's limit: it ignores everything after the
	// 72nd byte, so a longer password would be silently truncated.
	MaxPasswordBytes = 72
)

//go:embed common_passwords.txt
var commonPasswordList string

// commonPasswords are well-known passwords of at least MinPasswordLen
// characters (shorter ones fail the length rule anyway), lower case.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(commonPasswordList) {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
}()

// PasswordProblem returns why password is not acceptable for the account
// with the (normalised) email, or "" when it is. The message is shown to
// the user, so it never repeats the password.
func PasswordProblem(password, email string) string {
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(email, "@")
	switch {
	case password == "":
		return "is required"
	case !utf8.ValidString(password):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Sprintf("must have at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordBytes:
		return fmt.Sprintf("must have at most %d bytes", MaxPasswordBytes)
	case email != "" && (lower == email || lower == local):
		return "must not be your email address"
	case commonPasswords[lower] || oneCharacter(lower):
		return "is too common; choose a less predictable password"
	}
	return ""
}

// oneCharacter reports whether s repeats a single character ("aaaaaaaaaa").
func oneCharacter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(r)) == ""
}

// Hasher hashes and checks passwords.
type Hasher interface {
	// Hash returns a salted hash of password.
	Hash(password string) ([]byte, error)
	// Compare returns nil when password matches hash, ErrPasswordMismatch
	// when it does not, and another error when hash is unusable.
	Compare(hash []byte, password string) error
	// NeedsRehash reports whether hash was made with other settings than
	// the current ones (a raised cost), so it should be replaced at the
	// next successful login.
	NeedsRehash(hash []byte) bool
}

// ErrPasswordMismatch is a Hasher's answer to a wrong password.
var ErrPasswordMismatch = errors.New("password does not match")

// Bcrypt is the Hasher of production: bcrypt at a tuned cost (each +1
// doubles the work; 12 takes about a quarter of a second on one core).
type Bcrypt struct {
	Cost int
}

// Hash implements Hasher.
func (b Bcrypt) Hash(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), b.Cost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt: %w", err)
	}
	return h, nil
}

// Compare implements Hasher.
func (b Bcrypt) Compare(hash []byte, password string) error {
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrPasswordMismatch
	default:
		return fmt.Errorf("bcrypt: %w", err)
	}
}

// NeedsRehash implements Hasher.
func (b Bcrypt) NeedsRehash(hash []byte) bool {
	cost, err := bcrypt.Cost(hash)
	return err != nil || cost != b.Cost
}
