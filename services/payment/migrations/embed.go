// Package migrations holds the payment service's forward-only SQL
// migrations, embedded so the binary migrates its own database at start-up.
package migrations

import "embed"

// FS is the migration files (NNNN_name.up.sql).
//
//go:embed *.sql
var FS embed.FS
