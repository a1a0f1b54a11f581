// Package openapitest checks real HTTP traffic against a service's
// spec-first OpenAPI document (api/openapi.yaml): tests make their calls
// through Spec.Client, and every request and response is validated, so a
// response that drifts from the spec fails the test that caused it.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func init() {
	// A server-sent event stream is text: its schema is a string (the
	// events are checked by the tests that read them).
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
}

// Spec is a loaded OpenAPI document.
type Spec struct {
	doc    *openapi3.T
	router routers.Router

	mu      sync.Mutex
	covered map[string]bool // "METHOD /path STATUS"
}

// Load reads and validates the document at path. Its servers are ignored:
// paths match on any host, so tests can use random ports.
func Load(t testing.TB, path string) *Spec {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load OpenAPI %s: %v", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("OpenAPI %s is invalid: %v", path, err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return &Spec{doc: doc, router: router, covered: map[string]bool{}}
}

// Client returns an HTTP client whose every exchange is validated against
// the spec; a mismatch is reported with t.Errorf (the response is still
// returned, so the test can go on and say more).
func (s *Spec) Client(t testing.TB) *http.Client {
	return &http.Client{Transport: &transport{t: t, spec: s, next: http.DefaultTransport}}
}

type transport struct {
	t    testing.TB
	spec *Spec
	next http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	res, err := tr.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := tr.spec.check(req, reqBody, res, resBody); err != nil {
		tr.t.Errorf("OpenAPI: %s %s → %d: %v\nresponse: %s", req.Method, req.URL.Path, res.StatusCode, err, truncate(resBody))
	}
	return res, nil
}

func (s *Spec) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("no operation in the spec: %w", err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	// Requests are checked only when the server accepted them: tests send
	// invalid requests on purpose, to see them refused.
	if res.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("request accepted but not valid per the spec: %w", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(resBody)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err
	}
	s.mu.Lock()
	s.covered[fmt.Sprintf("%s %s %d", req.Method, route.Path, res.StatusCode)] = true
	s.mu.Unlock()
	return nil
}

// Operations lists "METHOD /path" of every operation in the spec.
func (s *Spec) Operations() []string {
	var ops []string
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// OperationsTaking lists "METHOD /path" of every operation that takes the
// header parameter named header (case-insensitively), its path item's
// parameters included.
func (s *Spec) OperationsTaking(header string) []string {
	var ops []string
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, header) {
					ops = append(ops, method+" "+path)
					break
				}
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// Covered lists "METHOD /path STATUS" of every validated exchange so far.
func (s *Spec) Covered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.covered))
	for k := range s.covered {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
