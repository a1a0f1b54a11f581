// Package migrations holds the identity service's forward-only SQL
// migrations, applied at start-up (and by `identity seed`).
package migrations

import "embed"

// FS is the migration files.
//
//go:embed *.sql
var FS embed.FS
