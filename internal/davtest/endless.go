package davtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// EndlessAnswer starts a server that answers every request with a 207
// multistatus that does not end (64 MB of one display name, unless the
// client stops reading): the fault of a broken or hostile server, which
// no real server makes on demand. It returns the server, closed when the
// test ends, and the bytes of the body it got out.
func EndlessAnswer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>`+r.URL.Path+`</D:href><D:propstat><D:prop><D:displayname>`)
		chunk := strings.Repeat("x", 64<<10)
		for range 1 << 10 {
			n, err := io.WriteString(w, chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &sent
}
