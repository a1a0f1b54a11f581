// Package problem implements RFC 9457 problem details and the single table
// that maps a service's domain errors to them.
//
// It has no web-framework dependency so that domain packages may return
// field-level validation errors (Validation) without importing gin. The gin
// glue that writes problems lives in package web.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ContentType is the media type of every error response.
const ContentType = "application/problem+json"

// TypePrefix starts every stable problem type URI. Clients match on the full
// type, never on title or detail, which are for humans.
const TypePrefix = "urn:shop:problem:"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RequestID lets a user quote the failing request to support; it matches
	// the X-Request-ID response header and the server logs.
	RequestID string `json:"request_id,omitempty"`
}

// FieldError names one invalid input field. Field is the JSON name as the
// client sent it (a dotted path for nested fields, e.g. "lines[0].quantity").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// New returns a problem of the given slug and status.
func New(status int, slug, title, detail string) Problem {
	return Problem{Type: TypePrefix + slug, Title: title, Status: status, Detail: detail}
}

// ValidationError carries per-field errors. Domain code returns it (through
// Validation) when input breaks a rule that only the domain knows.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Validation returns a *ValidationError for the given fields.
func Validation(fields ...FieldError) error {
	return &ValidationError{Fields: fields}
}

// Field is shorthand for a FieldError.
func Field(name, format string, args ...any) FieldError {
	return FieldError{Field: name, Message: fmt.Sprintf(format, args...)}
}

// Error is a problem used as a Go error, for failures that are already
// HTTP-shaped (a missing header, an oversized body) and need no mapping.
type Error struct {
	Problem Problem
}

func (e *Error) Error() string {
	if e.Problem.Detail != "" {
		return e.Problem.Title + ": " + e.Problem.Detail
	}
	return e.Problem.Title
}

// Errorf returns an *Error of the given status and slug.
func Errorf(status int, slug, title, format string, args ...any) error {
	return &Error{Problem: New(status, slug, title, fmt.Sprintf(format, args...))}
}

// Mapping maps one domain sentinel error (matched with errors.Is) to a
// problem. The wrapped error's message becomes the detail when Detail is
// true; sentinels whose message is meant for users should set it.
type Mapping struct {
	Err    error
	Status int
	Slug   string
	Title  string
	Detail bool
}

// Mapper turns errors into problems: the one place where a service decides
// how its domain errors look on the wire.
type Mapper struct {
	mappings []Mapping
}

// NewMapper returns a Mapper for the given domain mappings. Common
// mappings (validation, Error) are built in.
func NewMapper(mappings ...Mapping) *Mapper {
	return &Mapper{mappings: mappings}
}

// Internal is the answer for every error that has no mapping. Clients never
// see internal messages.
var Internal = New(http.StatusInternalServerError, "internal", "Internal Server Error",
	"The server could not complete the request. Quote the request ID when reporting it.")

// Map returns the problem for err and whether err was known. Unknown errors
// map to Internal; the caller logs those (once).
func (m *Mapper) Map(err error) (Problem, bool) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		p := New(http.StatusBadRequest, "validation", "Invalid input", "One or more fields are invalid.")
		p.Errors = ve.Fields
		return p, true
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Problem, true
	}
	if m != nil {
		for _, mp := range m.mappings {
			if errors.Is(err, mp.Err) {
				p := New(mp.Status, mp.Slug, mp.Title, "")
				if mp.Detail {
					p.Detail = err.Error()
				}
				return p, true
			}
		}
	}
	return Internal, false
}
