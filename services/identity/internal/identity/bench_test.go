package identity

import (
	"fmt"
	"testing"
)

// BenchmarkBcryptCompare is the cost of one login's password check at
// the test cost, the default cost and two around it; logins/s per core is
// about 1e9 / (ns/op).
func BenchmarkBcryptCompare(b *testing.B) {
	for _, cost := range []int{4, 10, 11, 12} {
		b.Run(fmt.Sprintf("cost%d", cost), func(b *testing.B) {
			h := Bcrypt{Cost: cost}
			hash, err := h.Hash("benchmark password")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := h.Compare(hash, "benchmark password"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPasswordPolicy is the cost of the registration-time checks.
func BenchmarkPasswordPolicy(b *testing.B) {
	for b.Loop() {
		if PasswordProblem("a reasonably long passphrase", "someone@example.com") != "" {
			b.Fatal("rejected")
		}
	}
}
