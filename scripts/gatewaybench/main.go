// Command gatewaybench measures the nginx gateway with wrk, beside a
// baseline from the same run: a static 4 KB file served by nginx itself
// (what this machine's nginx can do at all). It starts the five services
// behind the gateway (scripts/internal/procstack, demo data loaded), then
// measures
//
//   - the static 4 KB file (the baseline),
//   - GET /api/v1/products/{id}, anonymous: through the gateway (its
//     micro-cache) and straight at the catalog,
//   - GET /api/v1/orders/{id} with the customer's token: through the
//     gateway with edge authentication on and off, and straight at the
//     order service,
//
// and prints requests/s, latency percentiles and each rate as a share of
// the static file's. No figure is asserted; the target (cached product reads
// through the gateway at 40% of the static rate at least) is reported.
//
//	go run ./scripts/gatewaybench -duration 10s -connections 64
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/gateway"
	"github.com/shop-oss/shop/scripts/internal/procstack"
)

type options struct {
	duration    time.Duration
	connections int
	threads     int
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each wrk run lasts")
	flag.IntVar(&o.connections, "connections", 64, "wrk's open connections")
	flag.IntVar(&o.threads, "threads", 2, "wrk's threads")
	flag.Parse()
	if o.duration < time.Second || o.connections < 1 || o.threads < 1 || o.threads > o.connections {
		fmt.Fprintln(os.Stderr, "gatewaybench: -duration at least 1s, -connections and -threads at least 1, threads <= connections")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is missing (make deps installs it)")
	}
	ctx := context.Background()
	root, err := procstack.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "shop-gatewaybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	storefront := filepath.Join(work, "storefront")
	if err := os.MkdirAll(filepath.Join(storefront, "assets"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(storefront, "index.html"), []byte("<!doctype html><title>bench</title>"), 0o644); err != nil {
		return err
	}
	static := bytes.Repeat([]byte("0123456789abcdef"), 4096/16)
	if err := os.WriteFile(filepath.Join(storefront, "assets", "static-4k.txt"), static, 0o644); err != nil {
		return err
	}

	fmt.Printf("gatewaybench: %d CPUs; building and starting the services and the gateway...\n", runtime.NumCPU())
	bin := filepath.Join(work, "bin")
	if err := procstack.Build(root, bin); err != nil {
		return err
	}
	env := map[string]map[string]string{}
	for _, name := range config.ServiceNames {
		// The runs read as one client: no per-client budget may end them.
		env[name] = map[string]string{"SHOP_RATE_LIMIT_PER_MINUTE": "0"}
	}
	// As deployed: a worker per CPU, edge authentication on.
	gwEnv := map[string]string{"SHOP_GATEWAY_WORKERS": "auto"}
	st, err := procstack.Start(ctx, procstack.Options{BinDir: bin, WorkDir: work, LogLevel: "warn", Env: env,
		Gateway: &gateway.Options{Root: root, StorefrontRoot: storefront, Env: gwEnv}})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "gatewaybench: shutdown:", err)
		}
	}()
	if err := st.Seed(); err != nil {
		return err
	}
	upstreams := map[string]string{}
	for _, name := range config.ServiceNames {
		upstreams[name] = strings.TrimPrefix(st.URL(name), "http://")
	}
	offEnv := gateway.NoRateLimits()
	maps.Copy(offEnv, gwEnv)
	off, err := gateway.Start(ctx, gateway.Options{Root: root, Dir: filepath.Join(work, "edge-auth-off"), Upstreams: upstreams,
		StorefrontRoot: storefront, EdgeAuthOff: true, Env: offEnv})
	if err != nil {
		return err
	}
	defer func() { _ = off.Stop() }()

	gw := st.Gateway.URL
	token, product, order, err := fixture(gw)
	if err != nil {
		return err
	}
	auth := "Authorization: Bearer " + token
	runs := []struct {
		name, url, header string
	}{
		{"static 4 KB file served by nginx (baseline)", gw + "/assets/static-4k.txt", ""},
		{"GET /products/{id} anonymous, through the gateway (micro-cache)", gw + "/api/v1/products/" + product, ""},
		{"GET /products/{id} anonymous, straight at catalog", st.URL("catalog") + "/api/v1/products/" + product, ""},
		{"GET /orders/{id} with a token, gateway, edge auth on", gw + "/api/v1/orders/" + order, auth},
		{"GET /orders/{id} with a token, gateway, edge auth off", off.URL + "/api/v1/orders/" + order, auth},
		{"GET /orders/{id} with a token, straight at order", st.URL("order") + "/api/v1/orders/" + order, auth},
	}
	fmt.Printf("\nwrk -t%d -c%d -d%s per run (nginx workers: auto)\n", o.threads, o.connections, o.duration)
	fmt.Printf("  %-64s %10s %6s %9s %9s %9s\n", "", "req/s", "share", "p50", "p99", "errors")
	var results []result
	for _, r := range runs {
		res, err := runWrk(o, r.url, r.header)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		results = append(results, res)
		fmt.Printf("  %-64s %10.0f %5.0f%% %9s %9s %9d\n", r.name, res.rps, 100*res.rps/results[0].rps, res.p50, res.p99, res.errors)
	}
	share := results[1].rps / results[0].rps
	met := "met"
	if share < 0.40 {
		met = "NOT met"
	}
	fmt.Printf("\ntarget: cached product reads through the gateway at %.0f%% of the static file's rate (>= 40%%): %s\n", 100*share, met)
	fmt.Printf("gateway cost on an authenticated order read: edge auth on %.0f%%, off %.0f%% of the direct rate\n",
		100*results[3].rps/results[5].rps, 100*results[4].rps/results[5].rps)
	for _, r := range results {
		if r.errors > 0 {
			return errors.New("a run had errors or non-2xx answers (see above): its figure is not a measurement")
		}
	}
	return nil
}

// fixture logs the demo customer in, picks a product and places an order,
// through the gateway.
func fixture(gw string) (token, product, order string, err error) {
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err = call("POST", gw+"/api/v1/auth/login", "", map[string]string{"email": "customer@shop.local", "password": "customer-demo-pass"}, 200, &login); err != nil {
		return
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err = call("GET", gw+"/api/v1/products", "", nil, 200, &page); err != nil {
		return
	}
	if len(page.Items) == 0 {
		return "", "", "", errors.New("the demo catalog is empty")
	}
	var placed struct {
		ID string `json:"id"`
	}
	err = call("POST", gw+"/api/v1/orders", login.AccessToken,
		map[string]any{"lines": []map[string]any{{"product_id": page.Items[0].ID, "quantity": 1}}}, 201, &placed)
	return login.AccessToken, page.Items[0].ID, placed.ID, err
}

// call makes a JSON request and decodes the answer into out.
func call(method, url, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// result is one wrk run's figures.
type result struct {
	rps      float64
	p50, p99 string
	errors   int
}

var (
	rpsLine   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctLine   = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
	non2xx    = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockErrs  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	errParsed = errors.New("cannot read wrk's output")
)

// runWrk runs wrk against url (with one extra header when set).
func runWrk(o options, url, header string) (result, error) {
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections), "-d", o.duration.String(), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures of wrk's report.
func parseWrk(out string) (result, error) {
	var r result
	m := rpsLine.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("%w:\n%s", errParsed, out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range pctLine.FindAllStringSubmatch(out, -1) {
		if p[1] == "50" {
			r.p50 = p[2]
		} else {
			r.p99 = p[2]
		}
	}
	if m := non2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
	}
	if m := sockErrs.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	return r, nil
}
