package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
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
	auth *auth
	log  *slog.Logger
}

func newClient(o *Options, origin *url.URL) *client {
	hc := &http.Client{Timeout: o.Timeout}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{http: hc, auth: newAuth(origin, o.Username, o.Password), log: o.Logger}
}

// StatusError is an HTTP response with an unexpected status.
type StatusError struct {
	Method string
	// URL is the request URL, without user info.
	URL  string
	Code int
	// Hint is what kith makes of the answer (a refused login, a login
	// scheme kith does not have), or "".
	Hint string
	// Message is what the server said: the message of a DAV:error body,
	// or a short, sanitised excerpt of another body. Never a copy of the
	// request's headers.
	Message string
	// Preconditions are the names of the DAV:error's conditions
	// (valid-sync-token, no-uid-conflict…).
	Preconditions []string
}

// Error names the request that failed, its HTTP status and what the server said.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.URL, http.StatusText(e.Code))
	if e.Code != 0 {
		msg = fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	if len(e.Preconditions) > 0 {
		msg += " (" + strings.Join(e.Preconditions, ", ") + ")"
	}
	if e.Message != "" {
		msg += "; the server says: " + e.Message
	}
	return msg
}

// statusOf returns the HTTP status in err, or 0.
func statusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

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

// maxAuthTries bounds the requests sent again after a 401 (a first
// challenge, then a new nonce).
const maxAuthTries = 2

// do sends r and returns the response when its status is one of ok; any
// other status becomes a *StatusError (with what the server said) and the
// body is closed. The caller closes the returned body.
func (c *client) do(ctx context.Context, r request, ok ...int) (*http.Response, error) {
	u := r.url
	redirects, tries := 0, 0
	for {
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
		sent, nonce, err := c.auth.apply(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, redact(u), err)
		}
		start := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			c.log.Debug("request failed", "method", r.method, "url", redact(u), "took", time.Since(start), "err", err)
			return nil, err
		}
		c.log.Debug("request", "method", r.method, "url", redact(u), "status", resp.StatusCode, "took", time.Since(start), "auth", sent)
		if slices.Contains(ok, resp.StatusCode) {
			return resp, nil
		}
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			retry, h := c.auth.challenged(resp, sent, nonce)
			if retry && tries < maxAuthTries {
				tries++
				drain(resp)
				continue
			}
			hint = h
			if retry {
				hint = fmt.Sprintf("login refused for user %q (%s): wrong username or password?", c.auth.user, sent)
			}
		}
		if r.follow && isRedirect(resp.StatusCode) && redirects < maxRedirects {
			loc, lerr := resp.Location()
			drain(resp)
			if lerr != nil {
				return nil, fmt.Errorf("%s %s: redirect without a usable Location: %w", r.method, redact(u), lerr)
			}
			if u.Scheme == "https" && loc.Scheme != "https" && c.auth.user != "" {
				return nil, fmt.Errorf("%s %s: redirected from https to %s; kith does not follow it with a login", r.method, redact(u), redact(loc))
			}
			c.log.Debug("following redirect", "from", redact(u), "to", redact(loc))
			u, redirects, tries = loc, redirects+1, 0
			continue
		}
		defer drain(resp)
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		msg, pre := serverMessage(b, c.auth.secrets())
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
	var ms multistatus
	if err := xml.NewDecoder(resp.Body).Decode(&ms); err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading multistatus: %w", r.method, redact(resp.Request.URL), err)
	}
	return &ms, resp.Request.URL, nil
}

// propfind asks for props (XML elements, namespaces declared as D, C and
// CS) of u at the given depth.
func (c *client) propfind(ctx context.Context, u *url.URL, depth string, follow bool, props ...string) (*multistatus, *url.URL, error) {
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
		strings.Join(props, "") + `</D:prop></D:propfind>`
	return c.multistatus(ctx, request{method: "PROPFIND", url: u, header: http.Header{"Depth": {depth}}, body: []byte(body), follow: follow})
}

// multistatus is a WebDAV 207 response body (RFC 4918 section 14.16), with
// the sync-token of RFC 6578.
type multistatus struct {
	Responses []response `xml:"DAV: response"`
	SyncToken string     `xml:"DAV: sync-token"`
}

type response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Prop   prop   `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type prop struct {
	ResourceType     *resourceType    `xml:"DAV: resourcetype"`
	DisplayName      string           `xml:"DAV: displayname"`
	ETag             string           `xml:"DAV: getetag"`
	SyncToken        string           `xml:"DAV: sync-token"`
	CTag             string           `xml:"http://calendarserver.org/ns/ getctag"`
	Principal        *hrefs           `xml:"DAV: current-user-principal"`
	HomeSet          *hrefs           `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	SupportedReports *supportedReport `xml:"DAV: supported-report-set"`
	AddressData      *string          `xml:"urn:ietf:params:xml:ns:carddav address-data"`
}

type resourceType struct {
	Collection  *struct{} `xml:"DAV: collection"`
	AddressBook *struct{} `xml:"urn:ietf:params:xml:ns:carddav addressbook"`
}

type hrefs struct {
	Hrefs []string `xml:"DAV: href"`
}

type supportedReport struct {
	Reports []struct {
		SyncCollection *struct{} `xml:"DAV: report>sync-collection"`
		// Xandikos leaves out the DAV:report element.
		Bare *struct{} `xml:"DAV: sync-collection"`
	} `xml:"DAV: supported-report"`
}

func (s *supportedReport) sync() bool {
	if s == nil {
		return false
	}
	for _, r := range s.Reports {
		if r.SyncCollection != nil || r.Bare != nil {
			return true
		}
	}
	return false
}

// code returns the HTTP status code in a DAV:status line, or 0.
func code(status string) int {
	f := strings.Fields(status)
	if len(f) < 2 {
		return 0
	}
	var n int
	fmt.Sscanf(f[1], "%d", &n)
	return n
}

// ok returns the props of r's 200 propstats merged, and whether there were
// any. A response with a status of its own (404 for a removed member) has
// none.
func (r *response) ok() (prop, bool) {
	var p prop
	found := false
	for _, ps := range r.Propstats {
		if c := code(ps.Status); c != 0 && c/100 != 2 {
			continue
		}
		found = true
		q := ps.Prop
		if q.ResourceType != nil {
			p.ResourceType = q.ResourceType
		}
		if q.DisplayName != "" {
			p.DisplayName = q.DisplayName
		}
		if q.ETag != "" {
			p.ETag = q.ETag
		}
		if q.SyncToken != "" {
			p.SyncToken = q.SyncToken
		}
		if q.CTag != "" {
			p.CTag = q.CTag
		}
		if q.Principal != nil {
			p.Principal = q.Principal
		}
		if q.HomeSet != nil {
			p.HomeSet = q.HomeSet
		}
		if q.SupportedReports != nil {
			p.SupportedReports = q.SupportedReports
		}
		if q.AddressData != nil {
			p.AddressData = q.AddressData
		}
	}
	return p, found
}

// resolve returns the URL href names, relative to base, cleaned of
// query and fragment.
func resolve(base *url.URL, href string) (*url.URL, error) {
	h, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("href %q: %w", href, errors.Unwrap(err))
	}
	u := base.ResolveReference(h)
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u, nil
}

// samePath says whether a and b name the same collection, ignoring a
// trailing slash.
func samePath(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// normETag returns an ETag in its quoted form: servers (or proxies) that
// send it unquoted get quotes added; a weak ETag keeps its W/ prefix.
func normETag(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	weak := strings.HasPrefix(s, "W/")
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		s = `"` + strings.Trim(s, `"`) + `"`
	}
	if weak {
		return "W/" + s
	}
	return s
}

// matchETag returns the form of etag sent in If-Match: quoted, and strong,
// since If-Match compares strongly and a W/ prefix, usually added by a
// proxy, would never match.
func matchETag(etag string) string {
	return normETag(strings.TrimPrefix(normETag(etag), "W/"))
}

// xmlText escapes s for an XML text node.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
