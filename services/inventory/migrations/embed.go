// Package migrations holds the inventory database schema as forward-only SQL
// migrations, embedded so that the binary migrates its database at start-up.
package migrations

import "embed"

// FS holds the NNNN_name.up.sql files.
//
//go:embed *.sql
var FS embed.FS
