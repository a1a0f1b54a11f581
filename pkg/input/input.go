// Package input holds the rules that every value a client sends meets before
// it reaches the domain or PostgreSQL, in every service:
//
//   - JSON is decoded strictly (DecodeJSON): one value, no unknown members,
//     member names matched exactly (not case-insensitively), no name twice
//     in an object, and the text rule below for every string, names
//     included;
//   - text (Text) is valid UTF-8 without control characters other than tab,
//     line feed and carriage return. PostgreSQL can store neither invalid
//     UTF-8 nor NUL (SQLSTATE 22021), and the other control characters have
//     no place in names, SKUs or notes (they hide text in logs and
//     terminals).
//
// Every refusal is a *problem.ValidationError naming the field, so that the
// client gets a 400 that says what to fix. The package has no web framework
// dependency: domain code that decodes client-made JSON (a page cursor)
// uses it too.
package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/shop-oss/shop/pkg/problem"
)

// DecodeJSON decodes the single JSON value in b into dst under the rules of
// the package. The error is a *problem.ValidationError naming the field, or
// a problem of type "malformed-json" when b is not JSON at all.
//
// It uses github.com/go-json-experiment/json (what became encoding/json/v2),
// whose defaults refuse duplicate names and invalid UTF-8 and match names
// exactly; encoding/json accepts a name twice (the last wins), matches names
// case-insensitively and turns invalid UTF-8 into U+FFFD without a word.
func DecodeJSON(b []byte, dst any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return malformed("the request body is empty")
	}
	// The text of every string is checked on the tokens, where the field
	// is known, before decoding into types that may not keep it (any, maps).
	// Only bodies that can hold a control character or invalid UTF-8 need
	// the pass: in JSON a control character is always escaped (\u0000, \b,
	// \f) except DEL and the C1 range.
	if mayBreakTextRule(b) {
		if err := checkTokens(b); err != nil {
			return err
		}
	}
	err := json.Unmarshal(b, dst, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	return decodeError(err)
}

// checkTokens reads every token of b and refuses the first string (value or
// member name) that breaks the text rule, and any name given twice. Other
// syntax errors are left to the decoder, which reports them.
func checkTokens(b []byte) error {
	// The decoder lets invalid UTF-8 through so that the raw string can be
	// checked here, where its field is known.
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowInvalidUTF8(true))
	var text []byte // each string unquoted, in one buffer
	for {
		if dec.PeekKind() != '"' {
			if _, err := dec.ReadToken(); err != nil {
				var serr *jsontext.SyntacticError
				if errors.As(err, &serr) && serr.Err == jsontext.ErrDuplicateName {
					return decodeError(err)
				}
				return nil // the end, or a syntax error the decoder reports
			}
			continue
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return decodeError(err)
		}
		msg := "must be valid UTF-8"
		if text, err = jsontext.AppendUnquote(text[:0], raw); err == nil && utf8.Valid(raw) {
			msg = textProblem(text)
		}
		if msg == "" {
			continue
		}
		ptr := dec.StackPointer()
		if kind, n := dec.StackIndex(dec.StackDepth()); kind == '{' && n%2 == 1 {
			// A member name: name the object it is in, not the bad name.
			return problem.Validation(problem.Field(FieldPath(ptr.Parent()), "has a member name that %s", msg))
		}
		return problem.Validation(problem.Field(FieldPath(ptr), "%s", msg))
	}
}

// mayBreakTextRule reports whether b holds invalid UTF-8 or something that
// can encode a control character other than tab, line feed and carriage
// return: the escapes \u, \b and \f, a raw DEL, or a raw C1 character.
func mayBreakTextRule(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && i+1 < len(b):
			switch b[i+1] {
			case 'u', 'b', 'f':
				return true
			}
			i++ // an escaped backslash does not start an escape
		case c == 0x7f:
			return true
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError || unicode.IsControl(r) {
				return true
			}
			i += size - 1
		}
	}
	return false
}

// TextProblem says what is wrong with s under the text rule, or "" when
// nothing is.
func TextProblem(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if msg := runeProblem(r, size); msg != "" {
			return msg
		}
		i += size
	}
	return ""
}

// textProblem is TextProblem for bytes (a string token, unquoted).
func textProblem(s []byte) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if msg := runeProblem(r, size); msg != "" {
			return msg
		}
		i += size
	}
	return ""
}

// runeProblem says what is wrong with one decoded rune of size bytes.
func runeProblem(r rune, size int) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return "must be valid UTF-8"
	case r == 0:
		return "must not contain NUL characters"
	case r == '\t', r == '\n', r == '\r':
		return ""
	case unicode.IsControl(r):
		return fmt.Sprintf("must not contain control characters (U+%04X)", r)
	}
	return ""
}

// Text returns a *problem.ValidationError naming field when s breaks the
// text rule, for values that do not come through DecodeJSON: query
// parameters, headers, path segments.
func Text(field, s string) error {
	if msg := TextProblem(s); msg != "" {
		return problem.Validation(problem.Field(field, "%s", msg))
	}
	return nil
}

// decodeError turns an error of the JSON decoder into a problem.
func decodeError(err error) error {
	var (
		serr *jsontext.SyntacticError
		merr *json.SemanticError
	)
	switch {
	case errors.As(err, &serr) && serr.Err == jsontext.ErrDuplicateName:
		return problem.Validation(problem.Field(FieldPath(serr.JSONPointer), "is given more than once"))
	case errors.As(err, &serr):
		if serr.Err == io.ErrUnexpectedEOF {
			return malformed("the body is not valid JSON: it ends early")
		}
		return malformed("the body is not valid JSON: " + strings.TrimPrefix(serr.Err.Error(), "jsontext: "))
	case errors.As(err, &merr):
		return problem.Validation(problem.Field(FieldPath(merr.JSONPointer), "%s", semanticMessage(merr)))
	default:
		return malformed("the body is not valid JSON")
	}
}

// semanticMessage says why a well-formed value does not fit its field.
func semanticMessage(e *json.SemanticError) string {
	switch {
	case e.Err == json.ErrUnknownName:
		return "is not a known field"
	case errors.Is(e.Err, strconv.ErrRange):
		return "is out of range"
	case e.GoType == nil:
		return "is invalid"
	}
	t := e.GoType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if e.Err != nil && !(e.JSONKind == '0' && isInteger(t.Kind())) {
		return "is invalid" // a method's own error (a UUID that does not parse)
	}
	switch k := t.Kind(); {
	case isInteger(k):
		return "must be an integer"
	case k == reflect.String:
		return "must be a string"
	case k == reflect.Bool:
		return "must be true or false"
	case k == reflect.Float32, k == reflect.Float64:
		return "must be a number"
	case k == reflect.Slice, k == reflect.Array:
		return "must be an array"
	case k == reflect.Struct, k == reflect.Map:
		return "must be an object"
	default:
		return "is invalid"
	}
}

// FieldPath writes a JSON pointer the way field errors name fields:
// /lines/0/quantity is lines[0].quantity; the empty pointer is "body".
func FieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if isIndex(tok) && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func isInteger(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uint64
}

func isIndex(tok string) bool {
	if tok == "" {
		return false
	}
	for i := range len(tok) {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

func malformed(detail string) error {
	return problem.Errorf(http.StatusBadRequest, "malformed-json", "Malformed JSON", "%s", detail)
}
