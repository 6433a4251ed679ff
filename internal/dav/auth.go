package dav

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	gosync "sync"

	"github.com/icholy/digest"
)

// Auth is the login of one CardDAV or CalDAV client: which scheme the
// server asked for, and where the credentials may go. Credentials go only
// to the configured scheme and host (or from http up to https on the same
// host name), and to a host that the configured server itself named as the
// user's home set (Trust); never to another host a redirect points at, nor
// from https down to http.
//
// The scheme is chosen from the server's WWW-Authenticate: over https the
// first request carries Basic (the common case, one round trip saved), over
// http the first request carries nothing, so that a password is not sent in
// the clear to a server that wants Digest.
type Auth struct {
	user, pass string
	origin     *url.URL

	mu      gosync.Mutex
	scheme  string            // "", schemeBasic or schemeDigest
	chal    *digest.Challenge // the Digest challenge in use
	nc      int               // Digest nonce count for chal
	trusted map[string]bool   // extra hosts (scheme://host:port) credentials may go to
}

// The schemes kith logs in with.
const (
	schemeBasic  = "Basic"
	schemeDigest = "Digest"
)

// NewAuth returns the login of user with pass ("" user: none) at the
// server of origin, the configured URL.
func NewAuth(origin *url.URL, user, pass string) *Auth {
	a := &Auth{user: user, pass: pass, origin: origin, trusted: map[string]bool{}}
	if user != "" && origin.Scheme == "https" {
		a.scheme = schemeBasic
	}
	return a
}

// User returns the configured user name ("" for none).
func (a *Auth) User() string { return a.user }

// Allowed says whether credentials may be sent to u.
func (a *Auth) Allowed(u *url.URL) bool {
	if a.user == "" {
		return false
	}
	if u.Scheme == a.origin.Scheme && HostPort(u) == HostPort(a.origin) {
		return true
	}
	if u.Scheme == "https" && a.origin.Scheme == "http" && strings.EqualFold(u.Hostname(), a.origin.Hostname()) {
		return true // the same host, moved up to https
	}
	if u.Scheme != "https" && a.origin.Scheme == "https" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.trusted[u.Scheme+"://"+HostPort(u)]
}

// Trust lets credentials go to u's host, named by named, a host they may
// go to (a home set on another host, as iCloud has), unless that would
// take them from https down to http.
func (a *Auth) Trust(u, named *url.URL) {
	if !a.Allowed(named) || u.Scheme != "https" && (a.origin.Scheme == "https" || named.Scheme == "https") {
		return
	}
	a.mu.Lock()
	a.trusted[u.Scheme+"://"+HostPort(u)] = true
	a.mu.Unlock()
}

// Apply sets the Authorization header of req when credentials may go to
// its URL and the scheme is known, and takes off any other: Go's client
// keeps the header of the first request on a redirect it follows, and a
// Digest answer holds the request's own URI.
func (a *Auth) Apply(req *http.Request) error {
	req.Header.Del("Authorization")
	if !a.Allowed(req.URL) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.scheme {
	case schemeBasic:
		req.SetBasicAuth(a.user, a.pass)
	case schemeDigest:
		a.nc++
		cred, err := digest.Digest(a.chal, digest.Options{Method: req.Method, URI: req.URL.RequestURI(), Count: a.nc, Username: a.user, Password: a.pass})
		if err != nil {
			return fmt.Errorf("digest login: %w", err)
		}
		req.Header.Set("Authorization", cred.String())
	}
	return nil
}

// sentWith returns the login req carried: the scheme ("" for none) and,
// for Digest, the nonce.
func sentWith(req *http.Request) (scheme, nonce string) {
	h := req.Header.Get("Authorization")
	scheme, _, _ = strings.Cut(h, " ")
	if scheme == schemeDigest {
		if c, err := digest.ParseCredentials(h); err == nil {
			nonce = c.Nonce
		}
	}
	return scheme, nonce
}

// maxAuthTries bounds the requests sent again after a 401 (a first
// challenge, then a new nonce).
const maxAuthTries = 2

// Send sends the request that build makes (anew for each try, body
// included) with hc, logged in. After a 401 that names a scheme kith can
// answer, or a new Digest nonce, it is sent again, at most maxAuthTries
// times. It returns the last response and the scheme its request carried
// ("" for none); when that response is a 401 that stands, refused says why
// in one line for the user. The caller closes the response's body.
func (a *Auth) Send(hc *http.Client, build func() (*http.Request, error)) (resp *http.Response, sent, refused string, err error) {
	for tries := 0; ; tries++ {
		req, err := build()
		if err != nil {
			return nil, "", "", err
		}
		if err := a.Apply(req); err != nil {
			return nil, "", "", fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", "", err
		}
		sent, nonce := sentWith(resp.Request)
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, sent, "", nil
		}
		retry, hint := a.challenged(resp, sent, nonce)
		if retry && tries < maxAuthTries {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			continue
		}
		if retry {
			hint = fmt.Sprintf("login refused for user %q (%s): wrong username or password?", a.user, sent)
		}
		return resp, sent, hint, nil
	}
}

// challenged takes in the WWW-Authenticate of a 401 answer to a request
// that carried scheme sent ("" for none; nonce for Digest). It returns
// whether the request should be sent again (the caller bounds the tries),
// or, when not, the reason to give the user.
func (a *Auth) challenged(resp *http.Response, sent, nonce string) (retry bool, hint string) {
	values := resp.Header.Values("WWW-Authenticate")
	offered := challengeSchemes(values)
	if !a.Allowed(resp.Request.URL) {
		if a.user == "" {
			return false, fmt.Sprintf("the server asks for a login (%s); set username and a password", orNone(offered))
		}
		return false, fmt.Sprintf("the server at %s asks for a login; kith sends the password only to %s", resp.Request.URL.Host, a.origin.Host)
	}
	chal := pickDigest(values)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case chal != nil && (sent != schemeDigest || chal.Nonce != nonce):
		// A first Digest challenge, or a new nonce (stale, or the server
		// gives one per answer).
		a.scheme, a.chal, a.nc = schemeDigest, chal, 0
		return true, ""
	case chal == nil && hasScheme(offered, schemeBasic) && sent != schemeBasic:
		a.scheme = schemeBasic
		return true, ""
	}
	if sent != "" && (hasScheme(offered, sent) || len(offered) == 0) {
		return false, fmt.Sprintf("login refused for user %q (%s): wrong username or password?", a.user, sent)
	}
	if len(offered) == 0 {
		return false, "the server refused the request and names no login scheme"
	}
	return false, fmt.Sprintf("the server asks for %s login, which kith does not have (it logs in with Basic, or Digest with MD5 or SHA-256)", strings.Join(offered, " or "))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no scheme named"
	}
	return strings.Join(s, " or ")
}

func hasScheme(offered []string, s string) bool {
	return slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, s) })
}

// pickDigest returns the Digest challenge to answer: SHA-256 before MD5,
// qop=auth or none; nil when the server offers none kith can answer.
func pickDigest(values []string) *digest.Challenge {
	var best *digest.Challenge
	for _, v := range values {
		for _, c := range splitChallenges(v) {
			ch, err := digest.ParseChallenge(c)
			if err != nil || ch.Nonce == "" {
				continue
			}
			switch strings.ToUpper(ch.Algorithm) {
			case "", "MD5", "SHA-256":
			default:
				continue
			}
			if len(ch.QOP) > 0 && !ch.SupportsQOP("auth") {
				continue
			}
			if best == nil || strings.EqualFold(ch.Algorithm, "SHA-256") && !strings.EqualFold(best.Algorithm, "SHA-256") {
				if len(ch.QOP) > 0 {
					ch.QOP = []string{"auth"}
				}
				best = ch
			}
		}
	}
	return best
}

// challengeSchemes returns the scheme names of WWW-Authenticate values.
func challengeSchemes(values []string) []string {
	var out []string
	for _, v := range values {
		for _, c := range splitChallenges(v) {
			name, _, _ := strings.Cut(c, " ")
			if name != "" && !hasScheme(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// splitChallenges splits one WWW-Authenticate value holding several
// challenges (`Basic realm="x", Digest realm="y", nonce="n"`) at the commas
// that start a new scheme, outside quotes.
func splitChallenges(v string) []string {
	var parts []string
	var cur strings.Builder
	quoted, escaped := false, false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
	}
	for _, r := range v {
		switch {
		case escaped:
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	// Rejoin the parameters (a part whose first word holds "=") to the
	// challenge they belong to.
	var out []string
	for _, p := range parts {
		first, _, _ := strings.Cut(p, " ")
		if strings.Contains(first, "=") && len(out) > 0 {
			out[len(out)-1] += ", " + p
			continue
		}
		out = append(out, p)
	}
	return out
}

// Learned returns the scheme the server asked for, when it is one a later
// process may send from the first request on (Basic), else "".
func (a *Auth) Learned() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.scheme == schemeBasic {
		return schemeBasic
	}
	return ""
}

// Remember takes in what Learned returned in an earlier process: the
// server asked for Basic, so the first request carries it.
func (a *Auth) Remember(scheme string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if scheme == schemeBasic && a.scheme == "" && a.user != "" {
		a.scheme = schemeBasic
	}
}

// Secrets returns what must never appear in a message: the password and
// the Basic token.
func (a *Auth) Secrets() []string {
	if a.user == "" {
		return nil
	}
	out := []string{base64.StdEncoding.EncodeToString([]byte(a.user + ":" + a.pass))}
	if len(a.pass) >= 3 {
		out = append(out, a.pass)
	}
	return out
}
