// Package migrations holds the catalog's forward-only SQL migrations,
// applied at start-up by pkg/service (and by `catalog seed`).
package migrations

import "embed"

// FS holds the NNNN_name.up.sql files.
//
//go:embed *.sql
var FS embed.FS
