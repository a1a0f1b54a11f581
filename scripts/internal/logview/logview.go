// Package logview reads the JSON log lines of Shop's processes (the
// services' slog lines and the gateway's access log), merges them in time
// order, picks one order's path through the services, and renders each line
// for a person: time, service, what happened. scripts/logs (`make logs`) is
// its command; the end-to-end tests run it on a real saga's logs.
package logview

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Record is one log line.
type Record struct {
	Time    time.Time
	Service string
	Level   string
	Msg     string
	Fields  map[string]any
	// Raw is the line itself; Parsed is false for a line that is not a
	// JSON object with a time (a broker's or nginx's error log).
	Raw    string
	Parsed bool
}

// Parse reads one line of the file of source (the process's name, used
// when the line names no service).
func Parse(source, line string) Record {
	r := Record{Service: source, Raw: line}
	if !strings.HasPrefix(line, "{") {
		return r
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return r
	}
	ts, _ := m["time"].(string)
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return r
	}
	r.Time, r.Parsed, r.Fields = t, true, m
	if s, ok := m["service"].(string); ok && s != "" {
		r.Service = s
	}
	r.Level, _ = m["level"].(string)
	r.Msg, _ = m["msg"].(string)
	return r
}

// Str is a field as text ("" when missing).
func (r Record) Str(key string) string {
	switch v := r.Fields[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	default:
		return fmt.Sprint(v)
	}
}

// Sort orders records by time, keeping the order of equal times (a file's
// own order).
func Sort(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
}

// ForOrder returns the records about order id, in their order: those that
// name it (order_id, or correlation_id, which is the order ID along the
// saga), and those of the same traces and requests (a request's lines
// written before it knew its order, the gateway's access line).
func ForOrder(rs []Record, id string) []Record {
	traces, requests := map[string]bool{}, map[string]bool{}
	names := func(r Record) bool { return r.Str("order_id") == id || r.Str("correlation_id") == id }
	for _, r := range rs {
		if r.Parsed && names(r) {
			if t := r.Str("trace_id"); t != "" {
				traces[t] = true
			}
			if q := r.Str("request_id"); q != "" {
				requests[q] = true
			}
		}
	}
	var out []Record
	for _, r := range rs {
		if !r.Parsed {
			continue
		}
		// A line of another order in the same trace (a client's trace of
		// several orders) is not this order's.
		if other := r.Str("order_id"); other != "" && other != id {
			continue
		}
		if names(r) || traces[r.Str("trace_id")] || requests[r.Str("request_id")] {
			out = append(out, r)
		}
	}
	return out
}

// shown are the fields Format prints in its own way or leaves out as noise.
var shown = []string{"time", "level", "msg", "service", "request_id", "correlation_id", "trace_id", "span_id",
	"order_id", "topic", "partition", "offset", "event_id", "event_type", "component", "group",
	"method", "route", "status", "bytes", "duration", "client_ip", "uri", "request_time", "upstream",
	"upstream_status", "upstream_connect_time", "upstream_header_time", "upstream_response_time", "user_agent"}

// Format renders a record on one line: time, service, level when not INFO,
// what happened, and the fields that say more.
func Format(r Record) string {
	if !r.Parsed {
		return fmt.Sprintf("%-12s %-9s %s", "", r.Service, r.Raw)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-9s ", r.Time.Local().Format("15:04:05.000"), r.Service)
	if r.Level != "" && r.Level != "INFO" {
		b.WriteString(r.Level + " ")
	}
	switch {
	case r.Msg == "http request":
		fmt.Fprintf(&b, "%s %s → %s (%s)", r.Str("method"), r.Str("route"), r.Str("status"), duration(r.Fields["duration"]))
	case r.Msg == "event handled":
		fmt.Fprintf(&b, "handled %s from %s[%s]@%s", r.Str("event_type"), r.Str("topic"), r.Str("partition"), r.Str("offset"))
	case r.Msg == "" && r.Str("uri") != "": // the gateway's access log
		fmt.Fprintf(&b, "%s %s → %s (%ss, upstream %s)", r.Str("method"), r.Str("uri"), r.Str("status"), r.Str("request_time"), r.Str("upstream_status"))
	default:
		b.WriteString(r.Msg)
		if t := r.Str("event_type"); t != "" {
			b.WriteString(" [" + t + "]")
		}
	}
	var rest []string
	for k := range r.Fields {
		if !slices.Contains(shown, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		fmt.Fprintf(&b, " %s=%s", k, r.Str(k))
	}
	return b.String()
}

// duration renders slog's duration (nanoseconds as a number).
func duration(v any) string {
	if ns, ok := v.(float64); ok {
		return time.Duration(int64(ns)).Round(10 * time.Microsecond).String()
	}
	return fmt.Sprint(v)
}
