package web_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/web"
)

func TestPreferWait(t *testing.T) {
	for _, c := range []struct {
		headers []string
		want    time.Duration
	}{
		{nil, 0},
		{[]string{"wait=5"}, 5 * time.Second},
		{[]string{"respond-async, Wait=3"}, 3 * time.Second},
		{[]string{"handling=lenient", `wait="4"; x=y`}, 4 * time.Second},
		{[]string{"wait=600"}, 10 * time.Second}, // capped
		{[]string{"wait=0"}, 0},
		{[]string{"wait=-2"}, 0},
		{[]string{"wait=soon"}, 0},
		{[]string{"waiting=5"}, 0},
	} {
		c2, _ := gin.CreateTestContext(httptest.NewRecorder())
		c2.Request = httptest.NewRequest("GET", "/", nil)
		for _, h := range c.headers {
			c2.Request.Header.Add("Prefer", h)
		}
		if got := web.PreferWait(c2, 10*time.Second); got != c.want {
			t.Errorf("Prefer %q: %s, want %s", c.headers, got, c.want)
		}
	}
}

func TestAppliedWait(t *testing.T) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Header("Vary", "Accept-Encoding")
	web.AppliedWait(c, 7*time.Second)
	if got := rec.Header().Get("Preference-Applied"); got != "wait=7" {
		t.Errorf("Preference-Applied %q", got)
	}
	if got := rec.Header().Get("Vary"); got != "Accept-Encoding, Prefer" {
		t.Errorf("Vary %q", got)
	}
}
