package openapitest

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
)

// Operation is one operation of the document with what a client sends it,
// for tests that derive their requests from the document (so that a new
// endpoint is covered by documenting it).
type Operation struct {
	Method string // GET, POST, ...
	Path   string // the template, e.g. /api/v1/orders/{id}
	// Params are the path, query and header parameters, resolved.
	Params []*openapi3.Parameter
	// Body is the schema of the JSON request body, nil without one.
	Body *openapi3.Schema
	// Public is true when the operation needs no credentials (security: []).
	Public bool
}

// Inputs lists every operation of the document, sorted by path and method.
func (s *Spec) Inputs() []Operation {
	var ops []Operation
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := Operation{Method: method, Path: path}
			for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range list {
					if p != nil && p.Value != nil {
						o.Params = append(o.Params, p.Value)
					}
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					o.Body = mt.Schema.Value
				}
			}
			security := op.Security
			if security == nil {
				security = &s.doc.Security
			}
			o.Public = len(*security) == 0
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops
}

// CheckRoutes fails t for every route the engine serves that the document
// lacks, and every operation of the document that no route serves, so that
// a route cannot be added without its documentation. routes is
// gin.Engine.Routes(); paths in except (such as /metrics) are not checked.
func (s *Spec) CheckRoutes(t testing.TB, routes gin.RoutesInfo, except ...string) {
	t.Helper()
	served := map[string]bool{}
	for _, r := range routes {
		if slices.Contains(except, r.Path) {
			continue
		}
		served[r.Method+" "+templateOf(r.Path)] = true
	}
	documented := map[string]bool{}
	for _, op := range s.Operations() {
		if _, path, _ := strings.Cut(op, " "); !slices.Contains(except, path) {
			documented[op] = true
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in the OpenAPI document", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in the OpenAPI document but no route serves it", op)
		}
	}
}

// templateOf writes gin's /orders/:id as OpenAPI's /orders/{id}.
func templateOf(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if len(seg) > 1 && (seg[0] == ':' || seg[0] == '*') {
			segs[i] = "{" + seg[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}
