// Package migrations holds the order service's forward-only SQL migrations,
// applied at start-up by pkg/service.
package migrations

import "embed"

// FS holds the NNNN_name.up.sql files.
//
//go:embed *.sql
var FS embed.FS
