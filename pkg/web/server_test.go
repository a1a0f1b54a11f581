package web_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/pkg/web"
)

// rawExchange sends req over a new TCP connection to addr and reads one
// response.
func rawExchange(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.80q: %v", req, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// The errors net/http writes itself, before any handler, are problems
// too: over-long headers, control characters in header values, requests
// that are not HTTP/1.1. Sent over raw TCP, since Go's client refuses to
// send most of them.
func TestServerOwnErrorsAreProblems(t *testing.T) {
	e, _, _ := newEngine(t)
	srv, err := web.Listen("127.0.0.1:0", e)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })

	cases := []struct {
		name, req, slug string
		status          int
	}{
		{"100 kB query", "GET /ids?q=" + strings.Repeat("a", 100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "header-too-large", 431},
		{"100 kB header", "GET /ids HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100_000) + "\r\n\r\n", "header-too-large", 431},
		{"control character in If-Match", "PUT /ids HTTP/1.1\r\nHost: x\r\nIf-Match: \"v1\x01\"\r\n\r\n", "malformed-request", 400},
		{"control character in Idempotency-Key", "POST /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\x1b[2J\r\nContent-Length: 0\r\n\r\n", "malformed-request", 400},
		{"NUL in a header", "GET /ids HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\x00b\r\n\r\n", "malformed-request", 400},
		{"bad header name", "GET /ids HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", "malformed-request", 400},
		{"no Host", "GET /ids HTTP/1.1\r\n\r\n", "malformed-request", 400},
		{"not HTTP", "HELLO\r\n\r\n", "malformed-request", 400},
		{"unknown transfer coding", "POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n", "unsupported-transfer-encoding", 501},
		{"HTTP/2 over HTTP/1", "GET /ids HTTP/2.0\r\nHost: x\r\n\r\n", "http-version-not-supported", 505},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := rawExchange(t, srv.Addr(), tc.req)
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != problem.ContentType {
				t.Fatalf("%s %q: %s", res.Status, res.Header.Get("Content-Type"), body)
			}
			var p problem.Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if p.Status != tc.status || p.Type != problem.TypePrefix+tc.slug || p.Title == "" || p.Detail == "" {
				t.Fatalf("problem %+v", p)
			}
		})
	}

	// What handlers write is left alone, plain text included.
	res, body := rawExchange(t, srv.Addr(), "GET /ids HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), `"request"`) {
		t.Fatalf("a good request: %s %v %s", res.Status, res.Header, body)
	}
	e.GET("/text", func(c *gin.Context) {
		c.Header("Connection", "close")
		c.String(http.StatusBadRequest, "400 Bad Request")
	})
	res, body = rawExchange(t, srv.Addr(), "GET /text HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || string(body) != "400 Bad Request" {
		t.Fatalf("a handler's plain text: %s %v %s", res.Status, res.Header, body)
	}
}
