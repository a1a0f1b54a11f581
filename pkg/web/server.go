package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// MaxHeaderBytes caps a request's line and headers; past it the answer is a
// 431 problem.
const MaxHeaderBytes = 64 << 10

// Server is an http.Server with production timeouts, started on a listener
// so that callers (and tests) know the bound address before serving.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr (":0" picks a free port) for h.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	// The server's own refusals (431, 400 before any handler) are
	// problems too (see problemConn).
	return &Server{ln: problemListener{Listener: ln, maxHeaderBytes: MaxHeaderBytes}, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
	}}, nil
}

// Addr is the bound address, e.g. 127.0.0.1:8081.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown http: %w", err)
	}
	return nil
}
