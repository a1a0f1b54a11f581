package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/pkg/problem"
)

// badText is the table of text that PostgreSQL cannot store or that has no
// place in a field, as JSON string content (raw) and as a URL query or path
// value (escaped).
var badText = []struct{ name, raw, escaped string }{
	{"invalid UTF-8", "\xff\xfe", "%FF%FE"},
	{"NUL", `\u0000`, "%00"},
	{"control character", `\u001b[2J`, "%1B%5B2J"},
}

// overLong is the length of a string sent to a field whose document gives
// no maxLength; a body carries it whole (the body limit is 1 MiB), a query
// a shorter one, so that the URL stays under the server's header limit.
const (
	overLongBody  = 100_000
	overLongQuery = 10_000
)

// sqlHeaders are the header parameters whose value is stored.
var sqlHeaders = []string{"Idempotency-Key"}

// TestBadInputIsA400NamingTheField sends every bad input of the table to
// every operation of every service's OpenAPI document, as real processes:
// each JSON body member (at every depth), query parameter, path parameter
// and stored header. Each answer must be a 400 problem naming the field (a
// path parameter may also be a 404: a bad ID names no resource), and it is
// checked against the document. An endpoint is covered by documenting it.
func TestBadInputIsA400NamingTheField(t *testing.T) {
	s := openShop(t, map[string]map[string]string{"identity": {
		// The table sends hundreds of bad logins and registrations.
		"SHOP_IDENTITY_LOGIN_PER_MINUTE": "100000", "SHOP_IDENTITY_REGISTER_PER_MINUTE": "100000",
		"SHOP_IDENTITY_SESSION_PER_MINUTE": "100000",
	}})
	tokens := []string{s.admin, s.seller, s.customer}
	// Path parameters name resources that exist, so that a refusal cannot
	// come from a lookup that fails first: one line per kind of resource,
	// by the path segment before the parameter.
	product := s.product(t, "Bad-input target", 1000, 5)
	category := must(t, 201, "POST", s.url("catalog")+"/api/v1/categories", s.admin,
		map[string]any{"name": "Bad input", "slug": "bad-input"})["id"].(string)
	order := s.order(t, s.customer, line{product, 1})
	payment, _ := s.payment(t, order)
	ids := map[string]string{
		"products/{id}": product, "categories/{id}": category, "inventory/{productId}": product,
		"reservations/{orderId}": order, "orders/{id}": order, "user/{userId}": s.customerID,
		"payments/{id}": payment, "users/{id}": s.customerID, "{offset}": "0",
	}
	for _, service := range config.ServiceNames {
		t.Run(service, func(t *testing.T) {
			spec := openapitest.Load(t, filepath.Join("..", "..", "services", service, "api", "openapi.yaml"))
			b := &badInputs{t: t, base: s.url(service), client: spec.Client(t), tokens: tokens, ids: ids}
			n := 0
			for _, op := range spec.Inputs() {
				n += b.operation(op)
			}
			if n == 0 {
				t.Fatal("no input to try: the document lists no parameters or bodies")
			}
			serverRefusals(t, strings.TrimPrefix(s.url(service), "http://"))
			t.Logf("%d bad requests, each a 400 naming its field", n)
		})
	}
}

type badInputs struct {
	t      *testing.T
	base   string
	client *http.Client
	tokens []string
	ids    map[string]string // see TestBadInputIsA400NamingTheField
}

// request is one bad request and the field its answer must name.
type request struct {
	what        string // for failure messages
	path, query string
	header      http.Header
	body        []byte
	field       string
	pathParam   bool // a 404 is a fine answer too
	freshKey    bool // a new Idempotency-Key for every attempt
}

// operation sends the table to op and returns how many requests it sent.
func (b *badInputs) operation(op openapitest.Operation) int {
	good := b.goodRequest(op)
	var reqs []request
	for _, p := range op.Params {
		switch p.In {
		case openapi3.ParameterInPath:
			for _, bt := range badText {
				r := good.clone()
				r.path = fillPath(strings.Replace(op.Path, "{"+p.Name+"}", bt.escaped, 1), b.ids)
				r.what, r.field, r.pathParam = "path "+p.Name+": "+bt.name, p.Name, true
				reqs = append(reqs, r)
			}
		case openapi3.ParameterInQuery:
			values := map[string]string{}
			for _, bt := range badText {
				values[bt.name] = bt.escaped
			}
			if isString(p.Schema) {
				values["over-long"] = strings.Repeat("x", overLength(p.Schema.Value, overLongQuery))
			}
			for name, v := range values {
				r := good.clone()
				r.query = url.QueryEscape(p.Name) + "=" + v
				r.what, r.field = "query "+p.Name+": "+name, p.Name
				reqs = append(reqs, r)
			}
		case openapi3.ParameterInHeader:
			if !slices.Contains(sqlHeaders, p.Name) {
				continue
			}
			for _, v := range []string{"\xff\xfe", strings.Repeat("k", 10_000)} {
				r := good.clone()
				r.header.Set(p.Name, v)
				r.what, r.field, r.freshKey = "header "+p.Name, p.Name, false
				reqs = append(reqs, r)
			}
		}
	}
	if op.Body != nil {
		sample := sampleValue(op.Body)
		for _, leaf := range leaves(op.Body, sample, "") {
			reqs = append(reqs, b.bodyCases(good, leaf, sample)...)
		}
	}
	for _, r := range reqs {
		b.check(op, r)
	}
	return len(reqs)
}

// goodRequest is a request op would accept as far as its credentials,
// path and required headers go; the table spoils one input of it.
func (b *badInputs) goodRequest(op openapitest.Operation) request {
	r := request{path: fillPath(op.Path, b.ids), header: http.Header{}}
	for _, p := range op.Params {
		switch {
		case p.In == openapi3.ParameterInHeader && p.Name == "Idempotency-Key":
			r.freshKey = true
		case p.In == openapi3.ParameterInHeader && p.Name == "If-Match":
			r.header.Set(p.Name, "*")
		}
	}
	if op.Body != nil {
		r.body, _ = json.Marshal(sampleValue(op.Body))
		r.header.Set("Content-Type", "application/json")
	}
	return r
}

func (r request) clone() request {
	r.header = r.header.Clone()
	return r
}

// check sends r with each token in turn until the answer is not about
// credentials (the first token whose role may call op), and judges it.
func (b *badInputs) check(op openapitest.Operation, r request) {
	t := b.t
	t.Helper()
	var (
		status int
		ct     string
		body   []byte
	)
	tokens := b.tokens
	if op.Public {
		tokens = []string{""}
	}
	for _, token := range tokens {
		u := b.base + r.path
		if r.query != "" {
			u += "?" + r.query
		}
		req, err := http.NewRequest(op.Method, u, bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("%s %s %s: %v", op.Method, op.Path, r.what, err)
		}
		req.Header = r.header.Clone()
		if r.freshKey {
			req.Header.Set("Idempotency-Key", uuid.NewString())
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if r.body == nil {
			req.Body = nil
		}
		res, err := b.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s %s: %v", op.Method, op.Path, r.what, err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		status, ct = res.StatusCode, res.Header.Get("Content-Type")
		if status != http.StatusUnauthorized && status != http.StatusForbidden {
			break
		}
	}
	where := fmt.Sprintf("%s %s, %s", op.Method, op.Path, r.what)
	if ct != problem.ContentType {
		t.Errorf("%s: %d %q, want a problem (%s): %.300s", where, status, ct, problem.ContentType, body)
		return
	}
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	switch {
	case r.pathParam && status == http.StatusNotFound:
	case status != http.StatusBadRequest:
		t.Errorf("%s: %d, want 400: %.300s", where, status, body)
	case !names(p, r.field):
		t.Errorf("%s: the 400 does not name %s: %.300s", where, r.field, body)
	}
}

// names reports whether p names field: in its field errors, or (for a
// header, whose problems have none) in its title or detail.
func names(p problem.Problem, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	spoken := strings.ToLower(strings.ReplaceAll(field, "-", " "))
	return len(p.Errors) == 0 && (strings.Contains(strings.ToLower(p.Title), spoken) ||
		strings.Contains(strings.ToLower(p.Detail), strings.ToLower(field)))
}

// leaf is one member of a JSON body: its field path, schema and the JSON
// path (object names and array indexes) that reaches it in the sample.
type leaf struct {
	field  string
	schema *openapi3.Schema
	steps  []any // string: member name; int: index
}

// leaves lists every member of the sample at every depth.
func leaves(s *openapi3.Schema, v any, field string, steps ...any) []leaf {
	var out []leaf
	switch v := v.(type) {
	case map[string]any:
		for _, name := range sortedKeys(v) {
			ps := propertySchema(s, name)
			f := name
			if field != "" {
				f = field + "." + name
			}
			st := append(slices.Clone(steps), name)
			out = append(out, leaf{field: f, schema: ps, steps: st})
			out = append(out, leaves(ps, v[name], f, st...)...)
		}
	case []any:
		if len(v) > 0 && s != nil && s.Items != nil {
			out = append(out, leaves(s.Items.Value, v[0], field+"[0]", append(slices.Clone(steps), 0)...)...)
		}
	}
	return out
}

// bodyCases spoils one member of the sample body in every way that fits it.
func (b *badInputs) bodyCases(good request, l leaf, sample any) []request {
	var out []request
	add := func(what, field string, body []byte) {
		r := good.clone()
		r.body, r.what, r.field = body, "body "+l.field+": "+what, field
		out = append(out, r)
	}
	name := l.steps[len(l.steps)-1]
	if n, ok := name.(string); ok {
		add("duplicate key", l.field, encode(sample, l.steps, "dup", ""))
		upper := strings.ToUpper(n)
		add("case variant", strings.TrimSuffix(l.field, n)+upper, encode(sample, l.steps, "rename", upper))
	}
	switch {
	case isStringSchema(l.schema):
		for _, bt := range badText {
			add(bt.name, l.field, encode(sample, l.steps, "raw", `"`+bt.raw+`"`))
		}
		add("over-long", l.field, encode(sample, l.steps, "raw", `"`+strings.Repeat("x", overLength(l.schema, overLongBody))+`"`))
	case l.schema != nil && l.schema.Type.Is(openapi3.TypeInteger):
		add("out of range", l.field, encode(sample, l.steps, "raw", "1"+strings.Repeat("0", 30)))
	}
	return out
}

// encode writes v as JSON with one change at the member that steps reach:
// "dup" writes it twice, "rename" writes it under arg, "raw" writes arg as
// its value (bytes that encoding/json would never write).
func encode(v any, steps []any, op, arg string) []byte {
	var buf bytes.Buffer
	var walk func(v any, depth int, onPath bool)
	walk = func(v any, depth int, onPath bool) {
		switch v := v.(type) {
		case map[string]any:
			buf.WriteByte('{')
			first := true
			for _, k := range sortedKeys(v) {
				here := onPath && depth < len(steps) && steps[depth] == k
				last := here && depth == len(steps)-1
				times, name := 1, k
				if last && op == "dup" {
					times = 2
				}
				if last && op == "rename" {
					name = arg
				}
				for range times {
					if !first {
						buf.WriteByte(',')
					}
					first = false
					nb, _ := json.Marshal(name)
					buf.Write(nb)
					buf.WriteByte(':')
					if last && op == "raw" {
						buf.WriteString(arg)
					} else {
						walk(v[k], depth+1, here)
					}
				}
			}
			buf.WriteByte('}')
		case []any:
			buf.WriteByte('[')
			for i, e := range v {
				if i > 0 {
					buf.WriteByte(',')
				}
				walk(e, depth+1, onPath && depth < len(steps) && steps[depth] == i)
			}
			buf.WriteByte(']')
		default:
			b, _ := json.Marshal(v)
			buf.Write(b)
		}
	}
	walk(v, 0, true)
	return buf.Bytes()
}

// sampleValue is a value of schema s with every property present.
func sampleValue(s *openapi3.Schema) any {
	if s == nil {
		return "x"
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(alt) > 0 && alt[0].Value != nil && s.Type == nil && len(s.Properties) == 0 {
			return sampleValue(alt[0].Value)
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch {
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		m := map[string]any{}
		for name, p := range s.Properties {
			if p.Value != nil && !p.Value.ReadOnly {
				m[name] = sampleValue(p.Value)
			}
		}
		return m
	case s.Type.Is(openapi3.TypeArray):
		if s.Items == nil {
			return []any{}
		}
		return []any{sampleValue(s.Items.Value)}
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		if s.Min != nil {
			return *s.Min + 1
		}
		return 1
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	}
	switch s.Format {
	case "uuid":
		return uuid.NewString()
	case "date-time":
		return time.Now().UTC().Format(time.RFC3339)
	case "email":
		return "someone@example.com"
	}
	return strings.Repeat("x", max(1, int(s.MinLength)))
}

func propertySchema(s *openapi3.Schema, name string) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if p := s.Properties[name]; p != nil {
		return p.Value
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		for _, a := range alt {
			if ps := propertySchema(a.Value, name); ps != nil {
				return ps
			}
		}
	}
	return nil
}

func isString(ref *openapi3.SchemaRef) bool { return ref != nil && isStringSchema(ref.Value) }

func isStringSchema(s *openapi3.Schema) bool {
	if s == nil {
		return false
	}
	if s.Type.Is(openapi3.TypeString) {
		return true
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(alt) > 0 && isStringSchema(alt[0].Value) {
			return true
		}
	}
	return false
}

// overLength is one more than the document's maxLength, or dflt.
func overLength(s *openapi3.Schema, dflt int) int {
	if s != nil && s.MaxLength != nil {
		return int(*s.MaxLength) + 1
	}
	return dflt
}

// fillPath fills the path parameters left with the IDs of ids (keyed by
// the segment before the parameter and the parameter, or the parameter
// alone); a parameter without a line gets a fresh UUID.
func fillPath(path string, ids map[string]string) string {
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return path
		}
		j := i + strings.IndexByte(path[i:], '}')
		param := path[i : j+1]
		segment := path[strings.LastIndexByte(path[:i-1], '/')+1 : i]
		v, ok := ids[segment+param]
		if !ok {
			if v, ok = ids[param]; !ok {
				v = uuid.NewString()
			}
		}
		path = path[:i] + v + path[j+1:]
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serverRefusals sends what the HTTP server refuses before any handler
// over raw TCP (Go's client will not send it): each answer is a problem.
func serverRefusals(t *testing.T, addr string) {
	t.Helper()
	for status, req := range map[int]string{
		http.StatusRequestHeaderFieldsTooLarge: "GET /api/v1/x?q=" + strings.Repeat("a", 100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
		http.StatusBadRequest:                  "POST /api/v1/x HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \x1b[2J\r\nIf-Match: \"v1\x00\"\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, req)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		var p problem.Problem
		if res.StatusCode != status || res.Header.Get("Content-Type") != problem.ContentType || json.Unmarshal(body, &p) != nil || p.Status != status {
			t.Errorf("server refusal: %s %q %.200s, want a %d problem", res.Status, res.Header.Get("Content-Type"), body, status)
		}
	}
}
