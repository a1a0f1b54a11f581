package main

import "testing"

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:8080/assets/static-4k.txt
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.35ms    1.01ms  21.35ms   89.40%
    Req/Sec    24.41k     2.36k   30.24k    70.50%
  Latency Distribution
     50%    1.09ms
     75%    1.55ms
     90%    2.32ms
     99%    5.39ms
  485938 requests in 10.01s, 2.05GB read
  Socket errors: connect 0, read 0, write 0, timeout 3
  Non-2xx or 3xx responses: 2
Requests/sec:  48548.26
Transfer/sec:    209.79MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 48548.26 || r.p50 != "1.09ms" || r.p99 != "5.39ms" || r.errors != 5 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("output without figures parsed")
	}
}
