// Package fuzztest runs Go fuzz targets against a real service: its HTTP
// engine (Requests: every write operation of its OpenAPI document, with
// any path value, query, headers and body) and its consumer (Events: any
// payload for every event type it handles), on the service's real
// database, Redis and broker (pkg/testkit). An input may be refused, never
// answered with a 5xx, never panic, and an event a consumer cannot use is
// dead-lettered at once, not retried.
//
// Seeds are declared in the fuzz test and committed as the seed corpus
// (testdata/fuzz/<FuzzName>/<seed name>); SHOP_FUZZ_SEEDS=write writes
// them, and a run without it fails while the files lag the declarations.
// A seed named "ok-…" must succeed (2xx, or the event handled) and one
// named "bad-…" must be refused (a 4xx problem, or dead-lettered at once)
// when the seed corpus runs as a test: so the seeds prove that inputs
// reach the decoding and the handlers, not an authentication wall. One
// named "any-…" is a known hard input held only to the rules above. Inputs
// the fuzzer found and that were added to the corpus by hand carry no
// such prefix.
//
// While fuzzing (go test -fuzz), the coordinating process runs no input:
// the service is started only in the worker processes.
package fuzztest
