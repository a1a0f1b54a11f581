package fuzztest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/problem"
)

// API is a running service's HTTP API, for Requests.
type API struct {
	// Spec is the path of the service's OpenAPI document; its POST, PUT,
	// PATCH and DELETE operations are fuzzed.
	Spec string
	// Handler is the service's engine (service.Service.Engine), called
	// in-process: no socket between the fuzzer and the decoding.
	Handler http.Handler
	// Callers are the credentials an input may use, by name ("anonymous"
	// with an empty token).
	Callers []Caller
	// Values replace "$name" placeholders in the path value, query,
	// headers and body: IDs of resources the setup created.
	Values map[string]string
	// Log receives the service's log; its tail is shown with a failure.
	Log *Tail
}

// Caller is a bearer token by name.
type Caller struct {
	Name  string
	Token string
}

// Request is one seed of Requests.
type Request struct {
	// Name is the seed's file name: "ok-…" must answer 2xx, "bad-…" a 4xx
	// problem.
	Name string
	// Op is "METHOD /path" as in the OpenAPI document.
	Op     string
	Caller string
	// Param is the value of every path parameter (escaped as a path
	// segment).
	Param string
	// Query is the raw query string.
	Query string
	// Headers are "Name: value" lines, set after the defaults
	// (Content-Type, Authorization, a fresh Idempotency-Key, If-Match: *).
	Headers string
	Body    string
}

// requestTimeout bounds one input: a handler that hangs is a failure too.
const requestTimeout = 10 * time.Second

// Requests fuzzes every write operation of the API that setup starts:
// whatever the operation, caller, path value, query, headers and body, the
// answer is below 500 (a panic is a 500: the engine recovers it). setup
// runs once per process that runs inputs.
func Requests(f *testing.F, seeds []Request, setup func(testing.TB) API) {
	f.Helper()
	files := map[string][]any{}
	for _, s := range seeds {
		files[s.Name] = []any{s.Op, s.Caller, s.Param, s.Query, s.Headers, []byte(s.Body)}
	}
	syncSeeds(f, files)
	if coordinating(f) {
		f.Fuzz(func(*testing.T, string, string, string, string, string, []byte) {})
		return
	}
	if fuzzing() {
		keepFuzzPipesToItself()
	}
	api := setup(f)
	ops := writeOperations(f, api.Spec)
	callers := make([]string, len(api.Callers))
	tokens := map[string]string{}
	for i, c := range api.Callers {
		callers[i] = c.Name
		tokens[c.Name] = c.Token
	}
	fill := replacer(api.Values)
	for _, s := range seeds {
		if !slices.Contains(ops, s.Op) {
			f.Errorf("seed %s: %q is not a write operation of %s", s.Name, s.Op, api.Spec)
		}
	}
	for _, op := range ops {
		if !slices.ContainsFunc(seeds, func(s Request) bool { return s.Op == op && strings.HasPrefix(s.Name, okPrefix) }) {
			f.Errorf("no ok- seed for %s: every write operation needs one that succeeds", op)
		}
	}

	f.Fuzz(func(t *testing.T, op, caller, param, query, headers string, body []byte) {
		op = pick(ops, op)
		caller = pick(callers, caller)
		method, path, _ := strings.Cut(op, " ")
		target := fillPath(path, escapePath(fill(param)))
		if query != "" {
			target += "?" + escapeTarget(fill(query))
		}
		body = []byte(fill(string(body)))
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://service"+target, bytes.NewReader(body))
		if err != nil {
			t.Skipf("no HTTP request has the target %q: %v", target, err)
		}
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", uuid.NewString())
		req.Header.Set("If-Match", "*")
		if tok := tokens[caller]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		setHeaders(req.Header, fill(headers))
		if api.Log != nil {
			api.Log.Reset()
		}
		start := time.Now()
		rec := httptest.NewRecorder()
		api.Handler.ServeHTTP(rec, req)
		took := time.Since(start)
		res := rec.Result()
		what := func() string {
			log := ""
			if api.Log != nil {
				log = api.Log.String()
			}
			return method + " " + target + " as " + caller + "\nheaders: " + strings.TrimSpace(headers) +
				"\nbody: " + truncate(body) + "\nanswer: " + res.Status + " " + truncate(rec.Body.Bytes()) +
				"\nservice log:\n" + log
		}
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("5xx: %s", what())
		case took >= requestTimeout:
			t.Fatalf("took %s: %s", took, what())
		}
		switch expectation(t) {
		case okPrefix:
			if res.StatusCode/100 != 2 {
				t.Errorf("seed must succeed: %s", what())
			}
		case badPrefix:
			if res.StatusCode/100 != 4 || res.Header.Get("Content-Type") != problem.ContentType {
				t.Errorf("seed must be refused with a problem: %s", what())
			}
		}
	})
}

// replacer returns a function that replaces "$name" with values[name].
func replacer(values map[string]string) func(string) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	// Longer names first: "$order_paid" is not "$order" followed by "_paid".
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, "$"+k, values[k])
	}
	return strings.NewReplacer(pairs...).Replace
}

// writeOperations lists "METHOD /path" of the document's POST, PUT, PATCH
// and DELETE operations.
func writeOperations(f *testing.F, spec string) []string {
	var ops []string
	for _, op := range openapitest.Load(f, spec).Operations() {
		method, _, _ := strings.Cut(op, " ")
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		f.Fatalf("%s has no write operation", spec)
	}
	return ops
}

// fillPath puts v in every {parameter} of an OpenAPI path template.
func fillPath(path, v string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i])
		b.WriteString(v)
		path = path[j+1:]
	}
}

// escapePath escapes s as one path segment: every byte outside the
// unreserved set, so that the value stays in its segment.
func escapePath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// escapeTarget escapes the bytes a request line cannot carry (controls,
// space, non-ASCII, '#'), keeping the rest as the client wrote it.
func escapeTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// setHeaders sets the "Name: value" lines of s that an HTTP/1.1 client
// could send; the others are dropped, as a server never sees them.
func setHeaders(h http.Header, s string) {
	for line := range strings.SplitSeq(s, "\n") {
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
		value = strings.TrimSpace(value)
		if !ok || !validHeaderName(name) || !validHeaderValue(value) {
			continue
		}
		h.Set(textproto.CanonicalMIMEHeaderKey(name), value)
	}
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether a field value has no control character
// but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func truncate(b []byte) string {
	const most = 2000
	if len(b) > most {
		return string(b[:most]) + "…"
	}
	return string(b)
}
