// Package catalogdb is the PostgreSQL store of the catalog (gorm over pgx):
// row structs and their converters, the listing and search SQL, and the
// transactions that write state, price history and outbox events together.
// It translates driver errors (unique, foreign-key violations) into the
// domain errors of package catalog.
package catalogdb
