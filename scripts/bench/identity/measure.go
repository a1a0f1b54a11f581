package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/shop-oss/shop/pkg/auth"
)

// target is the verification throughput per core that auth must exceed so
// that it never bounds another service.
const target = 20_000

// subject is one thing measured: op run on workers goroutines.
type subject struct {
	workers int
	op      func() error
}

// rounds is how many slices each measurement is cut into. Subjects are
// measured in turn, slice by slice, so that load from other processes on
// a shared machine weighs on a figure and its baseline alike.
const rounds = 5

// interleaved measures each subject for d in total, round by round, and
// returns operations per second of each.
func interleaved(d time.Duration, subjects ...subject) ([]float64, error) {
	ops := make([]int64, len(subjects))
	took := make([]time.Duration, len(subjects))
	for range rounds {
		for i, s := range subjects {
			n, elapsed, err := burst(s.workers, d/rounds, s.op)
			if err != nil {
				return nil, err
			}
			ops[i] += n
			took[i] += elapsed
		}
	}
	rates := make([]float64, len(subjects))
	for i := range subjects {
		rates[i] = float64(ops[i]) / took[i].Seconds()
	}
	return rates, nil
}

// burst runs op on workers goroutines until d has passed (operations
// under way then complete and count) and returns the count and the time
// taken. The first error stops it.
func burst(workers int, d time.Duration, op func() error) (int64, time.Duration, error) {
	var (
		n        atomic.Int64
		firstErr error
		once     sync.Once
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			for !stop.Load() && time.Now().Before(deadline) {
				if err := op(); err != nil {
					once.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start), firstErr
}

func row(out io.Writer, name string, perSec float64, procs int, note string) {
	fmt.Fprintf(out, "  %-44s %12.1f /s  %12.1f /s per core  %s\n", name, perSec, perSec/float64(procs), note)
}

// post sends a JSON body and decodes the JSON answer into dst (if not nil).
func post(client *http.Client, url string, body any, dst any) (int, error) {
	data, _ := json.Marshal(body)
	res, err := client.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if dst != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, dst); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

type tokens struct {
	AccessToken string `json:"access_token"`
}

// benchLogin measures logins over HTTP beside raw bcrypt at the same cost.
func benchLogin(out io.Writer, base string, cost int, d time.Duration, procs int) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	workers := 2 * procs // keep every core busy while some requests wait on the database
	const password = "bench-password-0123"
	emails := make([]string, workers)
	for i := range emails {
		emails[i] = fmt.Sprintf("bench%d@example.com", i)
		status, err := post(client, base+"/api/v1/auth/register", map[string]any{
			"email": emails[i], "password": password, "display_name": "Bench"}, nil)
		if err != nil || status != http.StatusCreated {
			return fmt.Errorf("register bench user: %d %v", status, err)
		}
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	var next atomic.Int64
	login := func() error {
		email := emails[int(next.Add(1))%workers]
		var tok tokens
		status, err := post(client, base+"/api/v1/auth/login", map[string]any{"email": email, "password": password}, &tok)
		if err == nil && (status != http.StatusOK || tok.AccessToken == "") {
			err = fmt.Errorf("login answered %d", status)
		}
		return err
	}
	compare := func() error { return bcrypt.CompareHashAndPassword(hash, []byte(password)) }
	rates, err := interleaved(d, subject{workers, login}, subject{procs, compare})
	if err != nil {
		return err
	}
	logins, raw := rates[0], rates[1]
	fmt.Fprintf(out, "Login (bcrypt cost %d)\n", cost)
	row(out, "POST /api/v1/auth/login (HTTP, real stack)", logins, procs, fmt.Sprintf("%d clients", workers))
	row(out, "baseline: bcrypt.CompareHashAndPassword", raw, procs, "same cost, same run")
	fmt.Fprintf(out, "  login reaches %.0f%% of raw bcrypt; the rest is HTTP, the session transaction, audit and outbox\n",
		100*logins/raw)

	// Unknown email vs wrong password, interleaved so that load changes
	// during the run affect both alike.
	const samples = 12
	var unknown, wrong time.Duration
	for i := range samples {
		for _, c := range []struct {
			total *time.Duration
			body  map[string]any
		}{
			{&unknown, map[string]any{"email": fmt.Sprintf("nobody%d@example.com", i), "password": password}},
			{&wrong, map[string]any{"email": emails[0], "password": "not-the-password"}},
		} {
			begin := time.Now()
			status, err := post(client, base+"/api/v1/auth/login", c.body, nil)
			if err != nil || status != http.StatusUnauthorized {
				return fmt.Errorf("failed login answered %d %v", status, err)
			}
			*c.total += time.Since(begin)
		}
	}
	fmt.Fprintf(out, "  failed login, mean of %d interleaved: unknown email %s, wrong password %s (both compare one bcrypt hash)\n",
		samples, (unknown / samples).Round(time.Millisecond), (wrong / samples).Round(time.Millisecond))
	return nil
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// benchVerify measures access-token verification through pkg/auth's gin
// middleware (in-process, no network), cached and uncached, beside raw
// ed25519.Verify and the same chain without the middleware.
func benchVerify(ctx context.Context, out io.Writer, base string, d time.Duration, procs int) error {
	var tok tokens
	status, err := post(http.DefaultClient, base+"/api/v1/auth/login",
		map[string]any{"email": "bench0@example.com", "password": "bench-password-0123"}, &tok)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("login for a token: %d %v", status, err)
	}
	jwksURL := base + "/.well-known/jwks.json"
	gin.SetMode(gin.ReleaseMode)
	engine := func(mw ...gin.HandlerFunc) *gin.Engine {
		r := gin.New()
		r.GET("/x", append(mw, func(c *gin.Context) { c.Status(http.StatusNoContent) })...)
		return r
	}
	serve := func(h http.Handler) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.h.Get("WWW-Authenticate") != "" {
				return errors.New("token rejected")
			}
			return nil
		}
	}
	var verifiers []*auth.Verifier
	defer func() {
		for _, v := range verifiers {
			v.Close()
		}
	}()
	// A revocation list as a busy day leaves it: 1,000 users changed in the
	// last hour, the token's own user among them (a hit, at the token's
	// generation, so accepted): the check's costliest case.
	sub, gen, err := subjectOf(tok.AccessToken)
	if err != nil {
		return err
	}
	list := auth.NewRevocations()
	entries := []auth.Revocation{{UserID: sub, Generation: gen, Until: time.Now().Add(time.Hour)}}
	for range 999 {
		entries = append(entries, auth.Revocation{UserID: uuid.NewString(), Generation: 1, Until: time.Now().Add(time.Hour)})
	}
	list.Apply(time.Now(), entries...)
	var subjects []subject
	for _, c := range []struct {
		cacheSize int
		list      *auth.Revocations
	}{{0, nil}, {0, list}, {-1, list}} { // cache on (the default) without and with the list, cache off
		v, err := auth.NewVerifier(ctx, auth.Config{JWKSURL: jwksURL, CacheSize: c.cacheSize, Revocations: c.list}, nil)
		if err != nil {
			return err
		}
		verifiers = append(verifiers, v)
		h := engine(auth.Authenticate(v))
		if err := serve(h)(); err != nil { // fetches the keys
			return err
		}
		subjects = append(subjects, subject{procs, serve(h)})
	}
	pub, msg, sig, err := signatureParts(jwksURL, tok.AccessToken)
	if err != nil {
		return err
	}
	subjects = append(subjects, subject{procs, func() error {
		if !ed25519.Verify(pub, msg, sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}}, subject{procs, serve(engine())})
	rates, err := interleaved(d, subjects...)
	if err != nil {
		return err
	}
	cached, revocable, uncached, raw, bare := rates[0], rates[1], rates[2], rates[3], rates[4]
	verdict := func(r float64) string {
		if r/float64(procs) > target {
			return fmt.Sprintf("> %d/s/core: MEETS the target", target)
		}
		return fmt.Sprintf("< %d/s/core: below the target", target)
	}
	fmt.Fprintln(out, "Access-token verification (EdDSA) through pkg/auth middleware, in-process gin")
	row(out, "auth.Authenticate, cache on, no revocations", cached, procs, verdict(cached))
	row(out, "auth.Authenticate, cache on, 1,000 revoked", revocable, procs, verdict(revocable))
	row(out, "auth.Authenticate, cache off, 1,000 revoked", uncached, procs, verdict(uncached))
	row(out, "baseline: raw ed25519.Verify", raw, procs, "the signature check alone")
	row(out, "baseline: same gin chain, no auth", bare, procs, "routing and writing")
	return nil
}

// subjectOf returns the sub and gen claims of a token (unverified: the
// bench's own token).
func subjectOf(token string) (string, int64, error) {
	var c struct {
		Sub string `json:"sub"`
		Gen int64  `json:"gen"`
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", 0, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", 0, err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", 0, err
	}
	return c.Sub, c.Gen, nil
}

// signatureParts returns the public key (from the JWKS), the signing input
// and the signature of a compact JWS, for the raw ed25519 baseline.
func signatureParts(jwksURL, token string) (ed25519.PublicKey, []byte, []byte, error) {
	res, err := http.Get(jwksURL)
	if err != nil {
		return nil, nil, nil, err
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct{ X string } `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		return nil, nil, nil, fmt.Errorf("JWKS: %v", err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	if err != nil {
		return nil, nil, nil, err
	}
	dot := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		return nil, nil, nil, err
	}
	return ed25519.PublicKey(pub), []byte(token[:dot]), sig, nil
}
