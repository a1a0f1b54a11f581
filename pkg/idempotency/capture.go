package idempotency

import (
	"bytes"

	"github.com/gin-gonic/gin"
)

// capture is a gin.ResponseWriter that streams the response to the client
// and keeps a copy of its body, up to limit bytes, to be stored.
type capture struct {
	gin.ResponseWriter
	body     bytes.Buffer
	limit    int
	overflow bool // the body exceeded limit; the copy was dropped
}

func newCapture(w gin.ResponseWriter, limit int) *capture {
	return &capture{ResponseWriter: w, limit: limit}
}

// Write sends b to the client and copies it. The copy is what the handler
// answered even when the client went away: a retry then gets it whole.
func (w *capture) Write(b []byte) (int, error) {
	w.keep(b)
	return w.ResponseWriter.Write(b)
}

// WriteString sends s to the client and copies it, as Write.
func (w *capture) WriteString(s string) (int, error) {
	w.keep([]byte(s))
	return w.ResponseWriter.WriteString(s)
}

func (w *capture) keep(b []byte) {
	if w.overflow {
		return
	}
	if w.body.Len()+len(b) > w.limit {
		w.overflow = true
		w.body = bytes.Buffer{}
		return
	}
	w.body.Write(b)
}
