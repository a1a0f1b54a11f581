package fuzztest

import (
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The known bad inputs of issue 22, made from a good seed: each must be
// refused (a 400 naming the field, or a dead letter), never a 5xx or a
// retry.

var (
	firstKey    = regexp.MustCompile(`"((?:\\.|[^"\\])*)"\s*:`)
	firstString = regexp.MustCompile(`:\s*"((?:\\.|[^"\\])*)"`)
	firstNumber = regexp.MustCompile(`:\s*(-?[0-9][0-9.eE+-]*)`)
	nonAlnum    = regexp.MustCompile(`[^a-z0-9]+`)
)

// Spoiled returns good, an ok- seed with a JSON object body, with every
// known bad change made to its body in turn, each a bad- seed: invalid
// UTF-8, NUL and another control character in the first string value, the
// first member twice, in another case and beside an unknown one, a number
// beyond int64 and float64, a second value after the object, and a body
// that is not JSON at all.
func Spoiled(good Request) []Request {
	body := good.Body
	var out []Request
	add := func(what, b string) {
		r := good
		r.Name = "bad-" + slug(good.Op) + "-" + what
		r.Body = b
		out = append(out, r)
	}
	if m := firstString.FindStringSubmatchIndex(body); m != nil {
		s, e := m[2], m[3]
		add("invalid-utf8", body[:s]+"\xff\xfe"+body[e:])
		add("nul", body[:s]+`a\u0000b`+body[e:])
		add("control", body[:s]+`\u001b[2J`+body[e:])
	}
	if m := firstKey.FindStringSubmatchIndex(body); m != nil {
		key := body[m[0]:m[1]]
		valueEnd := len(body) - 1 // the first member, duplicated whole when it is the only one
		if i := strings.IndexByte(body[m[1]:], ','); i >= 0 {
			valueEnd = m[1] + i
		}
		member := body[m[0]:valueEnd]
		if !strings.ContainsAny(member, "{[") {
			add("duplicate-member", body[:valueEnd]+","+member+body[valueEnd:])
		}
		add("case-variant", body[:m[0]]+strings.ToUpper(key)+body[m[1]:])
		add("unknown-member", body[:m[0]]+`"no_such_member":1,`+body[m[0]:])
	}
	if m := firstNumber.FindStringSubmatchIndex(body); m != nil {
		add("beyond-int64", body[:m[2]]+"92233720368547758070"+body[m[3]:])
		add("beyond-float64", body[:m[2]]+"1e400"+body[m[3]:])
	}
	add("trailing-value", body+" {}")
	add("not-json", "{"+body)
	return out
}

// SpoiledEvents returns the known bad payloads of an event type, each a
// bad- seed keyed by key (but the empty payload, any-): bytes that are not
// protobuf, and a good payload
// whose field 1 (the ID every consumed event starts with) is invalid
// UTF-8, not a UUID, or a UUID with a NUL in it.
func SpoiledEvents(typ, key string, good []byte) []Event {
	withID := func(id string) []byte { // a later field 1 wins
		b := append([]byte(nil), good...)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, id)
	}
	name := "bad-" + strings.ToLower(typ) + "-"
	return []Event{
		// Every field absent: an event of an older producer may be like
		// that (a revocation with no generation revokes nothing).
		{Name: "any-" + strings.ToLower(typ) + "-empty", Type: typ, Key: key, Payload: []byte{}},
		{Name: name + "not-protobuf", Type: typ, Key: key, Payload: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{Name: name + "invalid-utf8", Type: typ, Key: key, Payload: withID("\xff\xfe")},
		{Name: name + "not-a-uuid", Type: typ, Key: key, Payload: withID("not-a-uuid")},
		{Name: name + "nul-in-id", Type: typ, Key: key, Payload: withID("0190f000-0000-7000-8000-00000000000\x00")},
	}
}

// slug names an operation in a file name: "POST /api/v1/orders/{id}/cancel"
// is "post-orders-id-cancel".
func slug(op string) string {
	s := strings.ToLower(strings.Replace(op, "/api/v1/", "/", 1))
	return strings.Trim(nonAlnum.ReplaceAllString(s, "-"), "-")
}
