package carddav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"kith/internal/cafile"
	"kith/internal/dav"
	"kith/sync/card"
)

// XML namespaces of the properties kith asks for.
const (
	nsDAV     = "DAV:"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCS      = "http://calendarserver.org/ns/"
)

// maxRedirects bounds the redirects followed for one request.
const maxRedirects = 5

// client makes the WebDAV requests of a Source or Target. It follows
// redirects itself so that a PROPFIND or REPORT keeps its method and body,
// and logs in itself (auth) so that credentials go only where they may.
type client struct {
	http *http.Client
	auth *dav.Auth
	log  *slog.Logger
	// maxAnswer bounds a multistatus answer (Options.MaxAnswer).
	maxAnswer int64
	// lim bounds one card (Options.Card).
	lim card.Limits
}

func newClient(o *Options, origin *url.URL) *client {
	hc := &http.Client{Timeout: o.Timeout}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{http: hc, auth: dav.NewAuth(origin, o.Username, o.Password), log: o.Logger, maxAnswer: o.MaxAnswer, lim: o.Card}
}

// StatusError is an HTTP response with an unexpected status.
type StatusError = dav.StatusError

// request is one HTTP request to make.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
	// follow says whether redirects are followed (discovery); other
	// requests treat a redirect as an error.
	follow bool
}

// do sends r and returns the response when its status is one of ok; any
// other status becomes a *StatusError (with what the server said) and the
// body is closed. The caller closes the returned body.
func (c *client) do(ctx context.Context, r request, ok ...int) (*http.Response, error) {
	u := r.url
	redirects := 0
	for {
		start := time.Now()
		resp, sent, hint, err := c.auth.Send(c.http, func() (*http.Request, error) {
			var body io.Reader
			if r.body != nil {
				body = bytes.NewReader(r.body)
			}
			req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
			if err != nil {
				return nil, err
			}
			for k, v := range r.header {
				req.Header[k] = v
			}
			return req, nil
		})
		if err != nil {
			c.log.Debug("request failed", "method", r.method, "url", redact(u), "took", time.Since(start), "err", err)
			return nil, cafile.Explain(err)
		}
		c.log.Debug("request", "method", r.method, "url", redact(u), "status", resp.StatusCode, "took", time.Since(start), "auth", sent)
		if slices.Contains(ok, resp.StatusCode) {
			return resp, nil
		}
		if r.follow && isRedirect(resp.StatusCode) && redirects < maxRedirects {
			loc, lerr := resp.Location()
			drain(resp)
			if lerr != nil {
				return nil, fmt.Errorf("%s %s: redirect without a usable Location: %w", r.method, redact(u), lerr)
			}
			if u.Scheme == "https" && loc.Scheme != "https" && c.auth.User() != "" {
				return nil, fmt.Errorf("%s %s: redirected from https to %s; kith does not follow it with a login", r.method, redact(u), redact(loc))
			}
			c.log.Debug("following redirect", "from", redact(u), "to", redact(loc))
			u, redirects = loc, redirects+1
			continue
		}
		defer drain(resp)
		b, _ := io.ReadAll(io.LimitReader(resp.Body, dav.MaxErrorBody))
		msg, pre := dav.ServerMessage(b, c.auth.Secrets())
		return nil, &StatusError{Method: r.method, URL: redact(u), Code: resp.StatusCode, Hint: hint, Message: msg, Preconditions: pre}
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// drain reads what is left of a small body so the connection can be reused,
// and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// multistatus runs a PROPFIND or REPORT and decodes its 207 response. The
// final URL (after redirects) is returned so hrefs resolve against it.
func (c *client) multistatus(ctx context.Context, r request) (*multistatus, *url.URL, error) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set("Content-Type", `application/xml; charset="utf-8"`)
	resp, err := c.do(ctx, r, http.StatusMultiStatus)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	ms, err := dav.Decode(resp.Body, c.maxAnswer)
	if errors.Is(err, dav.ErrTooLarge) {
		return nil, nil, fmt.Errorf("%s %s: %w", r.method, redact(resp.Request.URL), &card.LimitError{Key: "carddav_answer_size", What: "CardDAV answer", Max: c.maxAnswer})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading multistatus: %w", r.method, redact(resp.Request.URL), err)
	}
	return ms, resp.Request.URL, nil
}

// doer returns c as a dav.Doer; follow says whether redirects are followed.
func (c *client) doer(follow bool) dav.Doer {
	return func(ctx context.Context, method string, u *url.URL, depth string, body []byte) (*multistatus, *url.URL, error) {
		r := request{method: method, url: u, body: body, follow: follow}
		if depth != "" {
			r.header = http.Header{"Depth": {depth}}
		}
		return c.multistatus(ctx, r)
	}
}

// propfind asks for props (XML elements, namespaces declared as in
// dav.Propfind) of u at the given depth.
func (c *client) propfind(ctx context.Context, u *url.URL, depth string, follow bool, props ...string) (*multistatus, *url.URL, error) {
	return dav.Propfind(ctx, c.doer(follow), u, depth, props...)
}

// The parts of a multistatus answer, shared with the CalDAV source.
type (
	multistatus = dav.Multistatus
	response    = dav.Response
	prop        = dav.Prop
)
