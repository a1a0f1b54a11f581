package database

// Numbered is numbered, for the tests of package database_test.
var Numbered = numbered
