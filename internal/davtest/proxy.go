package davtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a reverse proxy in front of a real server that logs every
// request and injects faults.
type Proxy struct {
	// URL is the proxy's root, to use in place of the server's.
	URL string

	mu     gosync.Mutex
	log    []Request
	faults []*Fault
	// held and maxHeld count requests of a kind a Delay fault holds at
	// once, and the most there were.
	held, maxHeld map[string]int
	// stretched counts the bytes Endless faults made up.
	stretched atomic.Int64
}

// Request is one request the proxy saw.
type Request struct {
	Method string
	Path   string
	// Kind names what the request does: "PROPFIND depth 1", "sync-collection",
	// "addressbook-multiget", "calendar-multiget", "calendar-query", "GET",
	// "PUT"…
	Kind string
	// Hrefs counts the hrefs of a multiget.
	Hrefs int
	// Header holds the request's headers.
	Header http.Header
}

// Fault is one fault the proxy injects into the requests Match selects.
type Fault struct {
	// Match selects the requests hit; nil means all.
	Match func(r Request) bool
	// Times is how many matching requests are hit; 0 means all.
	Times int

	// Status answers with this status instead of forwarding.
	Status int
	// Delay waits this long before forwarding (or until the client gives up).
	Delay time.Duration
	// CutBody forwards, then cuts the connection half way through the
	// response body.
	CutBody bool
	// ETags rewrites the ETags of responses: "unquoted" drops the quotes,
	// "weak" adds W/.
	ETags string
	// CorruptCard breaks the first card in a multiget response so that it
	// no longer parses.
	CorruptCard bool
	// InvalidToken answers a sync-collection with a sync token the way a
	// server does when the token expired: 403 with DAV:valid-sync-token.
	InvalidToken bool
	// HideSync makes the server look like one without sync-collection:
	// sync-token properties are dropped and the report is refused.
	HideSync bool
	// HideCTag makes the server look like one without getctag: the
	// property is dropped from answers.
	HideCTag bool
	// Endless stretches the first card of the response without end (a
	// NOTE line of up to 1 GiB, the body's length no longer said): the
	// fault of a broken or hostile server. Proxy.Stretched counts what
	// the client was sent of it.
	Endless bool

	hits int
}

// IsKind returns a Match for requests of one kind.
func IsKind(kind string) func(Request) bool {
	return func(r Request) bool { return r.Kind == kind }
}

// NewProxy starts a proxy in front of the server at target and closes it
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del("Accept-Encoding") // keep bodies plain, to rewrite them
		},
		ModifyResponse: p.modify,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	srv := httptest.NewServer(p.handler(rp))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// AddFault adds f; faults apply in the order added.
func (p *Proxy) AddFault(f *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
}

// ClearFaults removes every fault.
func (p *Proxy) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Requests returns the requests seen since the last Reset.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.log...)
}

// Reset forgets the requests seen.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = nil
	clear(p.maxHeld)
}

// MaxHeld is the most requests of a kind a Delay fault held at once since
// the proxy started or was Reset: more than one means they were sent at
// once.
func (p *Proxy) MaxHeld(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxHeld[kind]
}

// Count returns how many requests of kind were seen since the last Reset.
func (p *Proxy) Count(kind string) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

var hrefRe = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?href>`)

func classify(r *http.Request, body []byte) Request {
	req := Request{Method: r.Method, Path: r.URL.Path, Kind: r.Method, Header: r.Header.Clone()}
	switch r.Method {
	case "PROPFIND":
		req.Kind = "PROPFIND depth " + r.Header.Get("Depth")
	case "REPORT":
		switch {
		case bytes.Contains(body, []byte("sync-collection")):
			req.Kind = "sync-collection"
		case bytes.Contains(body, []byte("addressbook-multiget")):
			req.Kind = "addressbook-multiget"
			req.Hrefs = len(hrefRe.FindAll(body, -1))
		case bytes.Contains(body, []byte("addressbook-query")):
			req.Kind = "addressbook-query"
		case bytes.Contains(body, []byte("calendar-multiget")):
			req.Kind = "calendar-multiget"
			req.Hrefs = len(hrefRe.FindAll(body, -1))
		case bytes.Contains(body, []byte("calendar-query")):
			req.Kind = "calendar-query"
		}
	}
	return req
}

type faultKey struct{}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		req := classify(r, body)
		p.mu.Lock()
		p.log = append(p.log, req)

		var hit []*Fault
		for _, f := range p.faults {
			if (f.Match == nil || f.Match(req)) && (f.Times == 0 || f.hits < f.Times) {
				f.hits++
				hit = append(hit, f)
			}
		}
		p.mu.Unlock()
		var merged Fault
		for _, f := range hit {
			if f.Status != 0 {
				merged.Status = f.Status
			}
			merged.Delay += f.Delay
			merged.CutBody = merged.CutBody || f.CutBody
			if f.ETags != "" {
				merged.ETags = f.ETags
			}
			merged.CorruptCard = merged.CorruptCard || f.CorruptCard
			merged.InvalidToken = merged.InvalidToken || f.InvalidToken
			merged.HideSync = merged.HideSync || f.HideSync
			merged.HideCTag = merged.HideCTag || f.HideCTag
			merged.Endless = merged.Endless || f.Endless
		}
		if merged.Delay > 0 {
			// Held: two requests held at once were sent at once (a
			// request sent after another's answer came cannot meet it
			// here, whatever the servers' goroutines do after).
			p.mu.Lock()
			if p.held == nil {
				p.held, p.maxHeld = map[string]int{}, map[string]int{}
			}
			p.held[req.Kind]++
			p.maxHeld[req.Kind] = max(p.maxHeld[req.Kind], p.held[req.Kind])
			p.mu.Unlock()
			select {
			case <-time.After(merged.Delay):
			case <-r.Context().Done():
			}
			p.mu.Lock()
			p.held[req.Kind]--
			p.mu.Unlock()
			if r.Context().Err() != nil {
				return
			}
		}
		switch {
		case merged.Status != 0:
			http.Error(w, "injected fault", merged.Status)
			return
		case merged.HideSync && req.Kind == "sync-collection":
			http.Error(w, "report not supported", http.StatusNotImplemented)
			return
		case merged.InvalidToken && req.Kind == "sync-collection" && !bytes.Contains(body, []byte("<D:sync-token></D:sync-token>")) && !emptyToken.Match(body):
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>`)
			return
		}
		if len(hit) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), faultKey{}, &merged))
		}
		next.ServeHTTP(w, r)
	})
}

var (
	emptyToken    = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?sync-token\s*/>|<(?:[A-Za-z0-9]+:)?sync-token>\s*</`)
	etagElem      = regexp.MustCompile(`(<(?:[A-Za-z0-9]+:)?getetag>)\s*(?:W/)?(?:"|&quot;)?([^<"&]*)(?:"|&quot;)?\s*(</)`)
	syncTokenElem = regexp.MustCompile(`<([A-Za-z0-9]+:)?sync-token>[^<]*</([A-Za-z0-9]+:)?sync-token>|<([A-Za-z0-9]+:)?sync-token\s*/>`)
	ctagElem      = regexp.MustCompile(`<([A-Za-z0-9]+:)?getctag(\s[^>]*)?>[^<]*</([A-Za-z0-9]+:)?getctag>|<([A-Za-z0-9]+:)?getctag(\s[^>]*)?/>`)
	syncReport    = regexp.MustCompile(`<([A-Za-z0-9]+:)?sync-collection\s*/>`)
)

// modify applies the response faults of the request.
func (p *Proxy) modify(resp *http.Response) error {
	f, _ := resp.Request.Context().Value(faultKey{}).(*Fault)
	if f == nil {
		return nil
	}
	if f.ETags != "" || f.CorruptCard || f.HideSync || f.HideCTag {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if tag := resp.Header.Get("ETag"); tag != "" && f.ETags != "" {
			resp.Header.Set("ETag", rewriteETag(tag, f.ETags))
		}
		if f.ETags != "" {
			body = etagElem.ReplaceAllFunc(body, func(m []byte) []byte {
				s := etagElem.FindSubmatch(m)
				return []byte(string(s[1]) + rewriteETag(string(s[2]), f.ETags) + string(s[3]))
			})
		}
		if f.CorruptCard {
			body = bytes.Replace(body, []byte("BEGIN:VCARD"), []byte("BEGIN:VCARD\r\n!!! this line is broken"), 1)
		}
		if f.HideCTag {
			body = ctagElem.ReplaceAll(body, nil)
		}
		if f.HideSync {
			body = syncTokenElem.ReplaceAll(body, nil)
			body = syncReport.ReplaceAll(body, nil)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if f.Endless {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		begin := []byte("BEGIN:VCARD")
		if i := bytes.Index(body, begin); i >= 0 {
			i += len(begin)
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:i]), strings.NewReader("\r\nNOTE:"),
				&endless{left: 1 << 30, sent: &p.stretched}, bytes.NewReader(body[i:])))
			resp.ContentLength = -1
			resp.Header.Del("Content-Length")
		} else {
			resp.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	if f.CutBody {
		resp.Body = &cutReader{r: resp.Body, left: max(resp.ContentLength/2, 1)}
	}
	return nil
}

// Stretched returns how many bytes Endless faults made up so far: about
// what the client read of them before it stopped (plus what the
// connection buffers).
func (p *Proxy) Stretched() int64 { return p.stretched.Load() }

// endless reads as left bytes of "x", counting them in sent.
type endless struct {
	left int64
	sent *atomic.Int64
}

func (e *endless) Read(b []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), e.left))
	for i := range n {
		b[i] = 'x'
	}
	e.left -= int64(n)
	e.sent.Add(int64(n))
	return n, nil
}

func rewriteETag(tag, how string) string {
	bare := strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`)
	switch how {
	case "unquoted":
		return bare
	case "weak":
		return `W/"` + bare + `"`
	}
	return tag
}

// cutReader returns left bytes, then an error, so that the proxy aborts the
// response and the client sees the connection cut.
type cutReader struct {
	r    io.ReadCloser
	left int64
}

func (c *cutReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("davtest: connection cut by fault")
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	return n, err
}

func (c *cutReader) Close() error { return c.r.Close() }
