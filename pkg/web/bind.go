package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/shop-oss/shop/pkg/input"
	"github.com/shop-oss/shop/pkg/problem"
)

// validate is configured once and never changed: field errors name the JSON
// field, as the client sent it. Like a compiled regexp, it holds no state.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if f.Anonymous && f.Tag.Get("json") == "" && f.Tag.Get("form") == "" {
			return embedded // its fields are the client's, at the outer level
		}
		for _, tag := range []string{"json", "form", "uri", "header"} {
			name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
			if name == "-" {
				return ""
			}
			if name != "" {
				return name
			}
		}
		return f.Name
	})
	return v
}

// Bind decodes the JSON body into dst strictly (see DecodeJSON) and
// validates it with `validate` struct tags. On failure
// it answers with a problem and returns false; the handler just returns.
func Bind(c *gin.Context, dst any) bool {
	if err := DecodeJSON(c.Request.Body, dst); err != nil {
		Fail(c, err)
		return false
	}
	return Valid(c, dst)
}

// BindQuery binds query parameters (`form` tags) and validates them; a
// parameter that does not parse is named in the 400 answer.
func BindQuery(c *gin.Context, dst any) bool {
	if err := decodeQuery(c.Request.URL.Query(), dst); err != nil {
		Fail(c, err)
		return false
	}
	return Valid(c, dst)
}

// Valid validates dst and answers 400 with every bad field when it fails.
func Valid(c *gin.Context, dst any) bool {
	if err := Validate(dst); err != nil {
		Fail(c, err)
		return false
	}
	return true
}

// Validate checks `validate` struct tags and returns a *problem.ValidationError
// naming each bad field by its JSON path.
func Validate(v any) error {
	err := validate.Struct(v)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return fmt.Errorf("validate: %w", err)
	}
	fields := make([]problem.FieldError, 0, len(ves))
	for _, fe := range ves {
		fields = append(fields, problem.FieldError{Field: fieldPath(fe), Message: fieldMessage(fe)})
	}
	return problem.Validation(fields...)
}

// embedded names an embedded struct in validation namespaces, to be left
// out of field paths.
const embedded = "\x00embedded"

// fieldPath drops the top-level struct name and embedded structs:
// "CreateOrder.lines[0].quantity" becomes "lines[0].quantity", and
// "listQuery.<embedded>.cursor" becomes "cursor".
func fieldPath(fe validator.FieldError) string {
	ns := strings.ReplaceAll(fe.Namespace(), "."+embedded, "")
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

func fieldMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "uuid", "uuid4", "uuid7":
		return "must be a UUID"
	case "min":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at least " + fe.Param() + " items or characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice {
			return "must have at most " + fe.Param() + " items or characters"
		}
		return "must be at most " + fe.Param()
	case "gt":
		return "must be greater than " + fe.Param()
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + fe.Param()
	case "len":
		return "must have length " + fe.Param()
	case "iso4217":
		return "must be an ISO 4217 currency code"
	case "required_with":
		return "is required with " + jsonName(fe.Param())
	default:
		return "is invalid (" + fe.Tag() + ")"
	}
}

// DecodeJSON reads r (the size-limited body) and decodes the one JSON value
// in it into dst under input.DecodeJSON's rules: unknown, duplicate and
// case-variant member names, invalid UTF-8 and control characters are
// refused with problems naming the field.
func DecodeJSON(r io.Reader, dst any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return input.DecodeJSON(b, dst)
}

// readBody reads a request body; past the body limit it is a 413, and a
// body that breaks off (the client's doing) a 400.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, errBodyTooLarge(maxErr.Limit)
		}
		return nil, problem.Errorf(http.StatusBadRequest, "malformed-json", "Malformed JSON",
			"the request body could not be read to its end")
	}
	return b, nil
}

// RawBody reads the whole (size-limited) body, for handlers that hash it
// (idempotency keys) before decoding. The body can be read again afterwards.
func RawBody(c *gin.Context) ([]byte, error) {
	b, err := readBody(c.Request.Body)
	if err != nil {
		return nil, err
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// jsonName is the JSON name of a Go field that a tag's parameter names, as
// this project names them: UserID is user_id.
func jsonName(goName string) string {
	var b strings.Builder
	for i, r := range goName {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rune(goName[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
