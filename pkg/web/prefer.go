package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// PreferWait reads the "wait" preference of the Prefer header (RFC 7240):
// how long the client is willing to wait for the answer it wants. It
// returns 0 when there is none or it does not parse (a preference is a
// hint, never an error), and at most limit. A handler that honours it
// calls AppliedWait.
func PreferWait(c *gin.Context, limit time.Duration) time.Duration {
	for _, h := range c.Request.Header.Values("Prefer") {
		for pref := range strings.SplitSeq(h, ",") {
			pref, _, _ = strings.Cut(pref, ";") // parameters of a preference
			name, value, found := strings.Cut(strings.TrimSpace(pref), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			secs, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err != nil || secs <= 0 {
				return 0
			}
			return min(time.Duration(secs)*time.Second, limit)
		}
	}
	return 0
}

// AppliedWait tells the client the wait preference was honoured, with the
// wait used (Preference-Applied, RFC 7240).
func AppliedWait(c *gin.Context, d time.Duration) {
	c.Header("Preference-Applied", "wait="+strconv.Itoa(int(d/time.Second)))
	c.Header("Vary", appendVary(c.Writer.Header().Get("Vary"), "Prefer"))
}

func appendVary(cur, name string) string {
	if cur == "" {
		return name
	}
	for v := range strings.SplitSeq(cur, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return cur
		}
	}
	return cur + ", " + name
}
