package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
)

// Server-sent events pass through the gateway as they are written, and an
// open stream is not cut by the read timeout that bounds ordinary answers.
// A stand-in for the order service writes an event, waits until the client
// has it, stays silent for longer than the gateway's read timeout (1 s
// here), and writes a second one.
func TestServerSentEventsPassUnbufferedAndStayOpen(t *testing.T) {
	next := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, "event: status\ndata: CREATED\n\n")
		w.(http.Flusher).Flush()
		if strings.HasSuffix(r.URL.Path, "/events") {
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
		time.Sleep(2500 * time.Millisecond)
		_, _ = io.WriteString(w, "event: status\ndata: PAID\n\n")
	}))
	defer upstream.Close()
	ups := map[string]string{}
	for _, name := range config.ServiceNames {
		ups[name] = strings.TrimPrefix(upstream.URL, "http://")
	}
	g, err := gateway.Start(context.Background(), gateway.Options{Root: root, Dir: t.TempDir(), Upstreams: ups, EdgeAuthOff: true,
		Env: map[string]string{"SHOP_GATEWAY_READ_TIMEOUT": "1s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Stop(); err != nil {
			t.Error(err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", g.URL+"/api/v1/orders/01a2/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("%d %s, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"))
	}
	events := make(chan string)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
	}()
	select {
	case e := <-events:
		if e != "CREATED" {
			t.Fatalf("first event %q", e)
		}
	case <-ctx.Done():
		close(next)
		t.Fatal("the first event did not arrive while the stream was open: the gateway holds it back")
	}
	close(next)
	if e, ok := <-events; !ok || e != "PAID" {
		t.Fatalf("second event %q (stream open: %v): the stream was cut during the silence", e, ok)
	}

	// The same silence on an ordinary route is cut by the read timeout:
	// what keeps the stream open is the stream's own route.
	res, err = http.Get(g.URL + "/api/v1/orders/01a2/timeline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), "PAID") {
		t.Errorf("an ordinary route outlived the read timeout: %d %q", res.StatusCode, body)
	}
}
