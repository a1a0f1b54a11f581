// Package otlpsink is a small OTLP/HTTP trace receiver for tests and
// benchmarks: services export their spans to it (OTEL_EXPORTER_OTLP_ENDPOINT
// set to its URL) as a collector would receive them, and it keeps them
// (Keep) or only counts them.
package otlpsink

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is what the tests look at of a received span.
type Span struct {
	Service         string
	Name            string
	TraceID, SpanID string
	ParentSpanID    string
	Links           []Link
	Start, End      time.Time
	Attributes      map[string]string
}

// Link is a span link: the linked span's trace and span IDs.
type Link struct{ TraceID, SpanID string }

// Sink receives OTLP/HTTP trace exports on a loopback port.
type Sink struct {
	// URL is the value for OTEL_EXPORTER_OTLP_ENDPOINT.
	URL   string
	keep  bool
	srv   *http.Server
	mu    sync.Mutex
	spans []Span
	count int
}

// Start listens on a free loopback port; keep says whether spans are kept
// (tests) or only counted (benchmarks).
func Start(keep bool) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{URL: "http://" + ln.Addr().String(), keep: keep}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.export)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the receiver.
func (s *Sink) Close() error { return s.srv.Close() }

// Spans returns the spans received so far.
func (s *Sink) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// Count is how many spans were received.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func (s *Sink) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, fmt.Sprintf("not an ExportTraceServiceRequest: %v", err), http.StatusBadRequest)
		return
	}
	var got []Span
	n := 0
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
			if !s.keep {
				continue
			}
			for _, sp := range ss.GetSpans() {
				out := Span{
					Service: service, Name: sp.GetName(),
					TraceID: hex.EncodeToString(sp.GetTraceId()), SpanID: hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID: hex.EncodeToString(sp.GetParentSpanId()),
					Start:        time.Unix(0, int64(sp.GetStartTimeUnixNano())),
					End:          time.Unix(0, int64(sp.GetEndTimeUnixNano())),
					Attributes:   map[string]string{},
				}
				for _, l := range sp.GetLinks() {
					out.Links = append(out.Links, Link{TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId())})
				}
				for _, a := range sp.GetAttributes() {
					out.Attributes[a.GetKey()] = a.GetValue().GetStringValue()
				}
				got = append(got, out)
			}
		}
	}
	s.mu.Lock()
	s.spans = append(s.spans, got...)
	s.count += n
	s.mu.Unlock()
	resp, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}
