package web

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/shop-oss/shop/pkg/input"
	"github.com/shop-oss/shop/pkg/problem"
)

// decodeQuery fills the `form`-tagged fields of the struct dst points to
// from q, and names every parameter that does not parse. Supported field
// types: strings, bools, integers, floats, time.Time (RFC 3339),
// time.Duration, pointers to those (nil when absent) and []string (repeated
// parameters). Every value bound must follow input's text rule (valid
// UTF-8, no control characters). Unknown parameters are ignored.
func decodeQuery(q url.Values, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode query: %T is not a pointer to a struct", dst)
	}
	var fields []problem.FieldError
	decodeStruct(q, v.Elem(), &fields)
	if len(fields) > 0 {
		return problem.Validation(fields...)
	}
	return nil
}

func decodeStruct(q url.Values, v reflect.Value, fields *[]problem.FieldError) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			decodeStruct(q, v.Field(i), fields)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		vals, ok := q[name]
		if !ok || len(vals) == 0 {
			continue
		}
		if msg := setQueryField(v.Field(i), vals); msg != "" {
			*fields = append(*fields, problem.FieldError{Field: name, Message: msg})
		}
	}
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// setQueryField parses vals into fv and returns a message for the client
// when they do not parse.
func setQueryField(fv reflect.Value, vals []string) string {
	for _, v := range vals {
		if msg := input.TextProblem(v); msg != "" {
			return msg // PostgreSQL could not store or compare it
		}
	}
	if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
		fv.Set(reflect.ValueOf(append([]string(nil), vals...)).Convert(fv.Type()))
		return ""
	}
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		if msg := setQueryField(p.Elem(), vals); msg != "" {
			return msg
		}
		fv.Set(p)
		return ""
	}
	s := vals[len(vals)-1]
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return "must be a duration such as 90s or 15m"
		}
		fv.SetInt(int64(d))
	case fv.Type() == timeType:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "must be an RFC 3339 time such as 2026-01-31T12:00:00Z"
		}
		fv.Set(reflect.ValueOf(t))
	default:
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(s)
		case reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return "must be true or false"
			}
			fv.SetBool(b)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, fv.Type().Bits())
			if err != nil {
				return "must be an integer"
			}
			fv.SetInt(n)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			n, err := strconv.ParseUint(s, 10, fv.Type().Bits())
			if err != nil {
				return "must be a non-negative integer"
			}
			fv.SetUint(n)
		case reflect.Float32, reflect.Float64:
			n, err := strconv.ParseFloat(s, fv.Type().Bits())
			if err != nil {
				return "must be a number"
			}
			fv.SetFloat(n)
		default:
			return "has an unsupported type"
		}
	}
	return ""
}
