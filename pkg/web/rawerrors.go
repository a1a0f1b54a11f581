package web

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"

	"github.com/shop-oss/shop/pkg/problem"
)

// net/http answers a request it cannot read (headers over MaxHeaderBytes,
// a control character in a header, a malformed request line) itself, before
// any handler, with a plain-text response of a fixed form written in one
// Write on the connection (see conn.serve in net/http's server.go):
//
//	HTTP/1.1 431 Request Header Fields Too Large\r\n
//	Content-Type: text/plain; charset=utf-8\r\n
//	Connection: close\r\n
//	\r\n
//	431 Request Header Fields Too Large
//
// net/http has no hook for these, so problemConn rewrites exactly that form
// into an application/problem+json response. The form cannot come from a
// handler: net/http writes a handler's headers sorted (Connection before
// Content-Type) and with a Date header.
const rawErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// problemListener wraps every accepted connection in a problemConn.
type problemListener struct {
	net.Listener
	maxHeaderBytes int
}

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c, maxHeaderBytes: l.maxHeaderBytes}, nil
}

// problemConn is a connection whose server-written plain-text errors are
// rewritten as problems.
type problemConn struct {
	net.Conn
	maxHeaderBytes int
}

func (c *problemConn) Write(p []byte) (int, error) {
	if out, ok := rewriteRawError(p, c.maxHeaderBytes); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite lets net/http half-close the connection after a 431 (as it
// does on a bare TCP connection), so that the client reads the answer
// before the connection is reset.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// rewriteRawError returns the problem+json response for p when p is one of
// net/http's own plain-text error responses.
func rewriteRawError(p []byte, maxHeaderBytes int) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) > 512 || !bytes.HasPrefix(p, []byte(proto)) {
		return nil, false
	}
	line, rest, ok := bytes.Cut(p[len(proto):], []byte("\r\n"))
	if !ok || len(line) < 4 || line[3] != ' ' {
		return nil, false
	}
	body, ok := bytes.CutPrefix(rest, []byte(rawErrorHeaders[len("\r\n"):]))
	if !ok || bytes.ContainsAny(body, "\r\n") {
		return nil, false
	}
	status, err := strconv.Atoi(string(line[:3]))
	if err != nil || status < 400 {
		return nil, false
	}
	pr := problem.New(status, "malformed-request", http.StatusText(status),
		"the request is not valid HTTP/1.1: a malformed request line or header, or a control character in a header value")
	// The server's texts are fixed strings ("invalid header value"), never
	// the client's bytes.
	if _, text, ok := bytes.Cut(body, []byte(": ")); ok {
		pr.Detail = string(text)
	}
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		pr.Type = problem.TypePrefix + "header-too-large"
		pr.Detail = "the request line and headers must not exceed " + strconv.Itoa(maxHeaderBytes) + " bytes"
	case http.StatusNotImplemented:
		pr.Type = problem.TypePrefix + "unsupported-transfer-encoding"
		pr.Detail = "the request's Transfer-Encoding is not supported"
	case http.StatusHTTPVersionNotSupported:
		pr.Type = problem.TypePrefix + "http-version-not-supported"
	}
	js, err := json.Marshal(pr)
	if err != nil {
		return nil, false
	}
	var out bytes.Buffer
	out.WriteString(proto)
	out.Write(line[:3])
	out.WriteString(" " + http.StatusText(status) + "\r\nContent-Type: " + problem.ContentType +
		"\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(js)) + "\r\n\r\n")
	out.Write(js)
	return out.Bytes(), true
}
