package ratelimit

// SetMaxHeldKeys lowers b's bound on held keys, for a test.
func SetMaxHeldKeys(b *Batched, n int) { b.maxKeys = n }

// HeldKeys are the keys b holds events for.
func HeldKeys(b *Batched) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	keys := make([]string, 0, len(b.held))
	for k := range b.held {
		keys = append(keys, k)
	}
	return keys
}
