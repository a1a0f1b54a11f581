package fuzztest

import (
	"bytes"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seedsEnv set to "write" makes the fuzz targets write their declared
// seeds into testdata instead of checking them.
const seedsEnv = "SHOP_FUZZ_SEEDS"

// Prefixes of seed names that state what the seed must do.
const (
	okPrefix  = "ok-"
	badPrefix = "bad-"
	// anyPrefix: a known hard input whose outcome may be either; only the
	// rules of every input hold.
	anyPrefix = "any-"
)

// Seeds writes (SHOP_FUZZ_SEEDS=write) or checks the committed seed corpus
// of f, for fuzz targets other than Requests and Events: one file per
// seed, named ok-…, bad-… or any-…, in the format of go test's corpus
// files (values of type string or []byte, in the order of the target's
// arguments). AsExpected checks an outcome against its seed's kind.
func Seeds(f *testing.F, seeds map[string][]any) {
	f.Helper()
	syncSeeds(f, seeds)
}

// AsExpected fails t when its seed's outcome is not the one its name
// states: an ok- seed must be accepted (err nil), a bad- one refused;
// any- seeds and fuzzed inputs may go either way. accepted is what was
// read, for the failure's message.
func AsExpected(t *testing.T, err error, accepted any) {
	t.Helper()
	switch expectation(t) {
	case "ok-":
		if err != nil {
			t.Errorf("a good input is refused: %v", err)
		}
	case "bad-":
		if err == nil {
			t.Errorf("a bad input is accepted: %+v", accepted)
		}
	}
}

// syncSeeds writes (SHOP_FUZZ_SEEDS=write) or checks the committed seed
// corpus of f: one file per seed, in the format of go test's corpus files.
// Writing also deletes declared-style files ("ok-…", "bad-…", "any-…") that are no
// longer declared; files the fuzzer found are left alone.
func syncSeeds(f *testing.F, seeds map[string][]any) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	write := os.Getenv(seedsEnv) == "write"
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if _, declared := seeds[e.Name()]; !declared && hasExpectation(e.Name()) {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					f.Fatal(err)
				}
			}
		}
	}
	for name, values := range seeds {
		if !hasExpectation(name) || strings.ContainsAny(name, `/\`) {
			f.Fatalf("seed name %q: want ok-…, bad-… or any-…, without slashes", name)
		}
		path := filepath.Join(dir, name)
		want := corpusFile(values)
		if write {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				f.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			f.Errorf("seed %s is not committed as declared (%s=write go test -run '^%s$' writes it)", path, seedsEnv, f.Name())
		}
	}
}

func hasExpectation(name string) bool {
	return strings.HasPrefix(name, okPrefix) || strings.HasPrefix(name, badPrefix) || strings.HasPrefix(name, anyPrefix)
}

// corpusFile encodes values as go test's "go test fuzz v1" file.
func corpusFile(values []any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		default:
			panic(fmt.Sprintf("fuzztest: seed value of type %T", v))
		}
	}
	return b.Bytes()
}

// expectation is the seed-name prefix of the input t runs ("ok-", "bad-"),
// or "" while fuzzing and for inputs without one: the testing package names
// a seed's subtest after its file, and only when it runs the seed corpus as
// a test is the service in the state the seeds were written for.
func expectation(t *testing.T) string {
	if fuzzing() {
		return ""
	}
	_, name, _ := strings.Cut(t.Name(), "/")
	for _, p := range []string{okPrefix, badPrefix, anyPrefix} {
		if strings.HasPrefix(name, p) {
			return p
		}
	}
	return ""
}

// fuzzing reports whether this process is a fuzzing worker (go test -fuzz
// runs the inputs in worker processes it starts with -test.fuzzworker).
func fuzzing() bool { return flagValue("test.fuzzworker") == "true" }

// coordinating reports whether this process coordinates the fuzzing of f:
// go test -fuzz matched f, and the inputs run in the workers, never here,
// so starting a service here would only cost time.
func coordinating(f *testing.F) bool {
	pattern := flagValue("test.fuzz")
	if pattern == "" || fuzzing() {
		return false
	}
	re, err := regexp.Compile(pattern)
	return err == nil && re.MatchString(f.Name())
}

func flagValue(name string) string {
	if fl := flag.Lookup(name); fl != nil {
		return fl.Value.String()
	}
	return ""
}

// pick returns the element of names equal to want, or else one chosen by
// want's hash, so that every input the fuzzer makes names one, and a seed
// keeps naming the same one whatever else is added.
func pick(names []string, want string) string {
	for _, n := range names {
		if n == want {
			return n
		}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(want))
	return names[h.Sum32()%uint32(len(names))]
}
