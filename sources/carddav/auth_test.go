package carddav

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"

	"github.com/icholy/digest"

	"kith/internal/davtest"
)

// bookAnswer is a PROPFIND answer naming an address book.
const bookAnswer = `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:response><D:href>%s</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`

// authLog records the Authorization headers a server was sent.
type authLog struct {
	mu   gosync.Mutex
	seen []string
}

func (l *authLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, r.Host+" "+r.Header.Get("Authorization"))
}

func (l *authLog) any() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.seen {
		if !strings.HasSuffix(s, " ") {
			return true
		}
	}
	return false
}

// TestRedirectKeepsCredentials: a redirect to another host, or from https
// down to http, never carries the password (issue 14 item 8).
func TestRedirectKeepsCredentials(t *testing.T) {
	var elsewhere authLog
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.add(r)
		w.Header().Set("WWW-Authenticate", `Basic realm="evil"`)
		http.Error(w, "who are you", http.StatusUnauthorized)
	}))
	defer other.Close()
	redirect := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="home"`)
			http.Error(w, "login", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, other.URL+"/book/", http.StatusMovedPermanently)
	}
	plain := httptest.NewServer(http.HandlerFunc(redirect))
	defer plain.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(redirect))
	defer tls.Close()

	cases := []struct {
		name, url string
		client    *http.Client
		want      string
	}{
		{"to another host", plain.URL + "/", nil, "kith sends the password only to"},
		{"from https to http", tls.URL + "/", tls.Client(), "redirected from https to http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSource(Options{Name: "dav", URL: tc.url, Username: "anna", Password: "s3cret", HTTPClient: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Read(context.Background(), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error holds the password: %v", err)
			}
			if elsewhere.any() {
				t.Errorf("credentials sent to the other host: %q", elsewhere.seen)
			}
		})
	}
}

// TestErrorNeverEchoesHeaders: a server whose error page repeats the
// request's headers does not get Authorization into the error (and so the
// log and the state) (issue 14 item 10).
func TestErrorNeverEchoesHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<html><body><h1>Bad request</h1><pre>")
		r.Header.Write(w)
		fmt.Fprintf(w, "</pre></body></html>")
	}))
	defer srv.Close()
	s, err := NewSource(Options{Name: "dav", URL: srv.URL + "/book/", Username: "anna", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(context.Background(), "")
	if err == nil {
		t.Fatal("Read succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "YW5uYTpzM2NyZXQ") || strings.Contains(strings.ToLower(err.Error()), "basic ") {
		t.Errorf("the error repeats the credentials: %v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("error %v does not name the status", err)
	}
}

// TestAnswerOverTheLimit: a server that answers a PROPFIND without end is
// read no further than Options.MaxAnswer, and the read fails naming the
// [limits] key to raise (issue 14 item 8: nothing a server does may fill
// the daemon's memory).
func TestAnswerOverTheLimit(t *testing.T) {
	srv, sent := davtest.EndlessAnswer(t)
	s, err := NewSource(Options{Name: "dav", URL: srv.URL + "/book/", MaxAnswer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "carddav_answer_size") {
		t.Fatalf("Read: %v, want an error naming carddav_answer_size", err)
	}
	if n := sent.Load(); n > 16<<20 {
		t.Errorf("the server got %d bytes out before the client stopped reading, want about the 1 MB limit", n)
	}
}

// TestDigest logs in with Digest as RFC 7616 has it, MD5 and SHA-256 with
// qop=auth, chosen from the server's challenge (sabre/dav, the real server
// the other tests use, offers only MD5).
func TestDigest(t *testing.T) {
	cases := []struct {
		name      string
		challenge []string
		want      string // the algorithm kith must answer with
	}{
		{"MD5", []string{`Digest realm="r", qop="auth", nonce="n1", opaque="o"`}, ""},
		{"SHA-256", []string{`Digest realm="r", qop="auth", algorithm=SHA-256, nonce="n1"`}, "SHA-256"},
		{"SHA-256 preferred", []string{`Digest realm="r", qop="auth", algorithm=MD5, nonce="n1"`, `Digest realm="r", qop="auth", algorithm=SHA-256, nonce="n1"`}, "SHA-256"},
		{"Basic offered too", []string{`Basic realm="r", Digest realm="r", qop="auth,auth-int", algorithm=SHA-256, nonce="n1"`}, "SHA-256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logins int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ok, alg := checkDigest(r, "anna", "s3cret"); ok {
					if alg != tc.want {
						t.Errorf("answered with algorithm %q, want %q", alg, tc.want)
					}
					logins++
					w.WriteHeader(http.StatusMultiStatus)
					fmt.Fprintf(w, bookAnswer, r.URL.Path)
					return
				}
				for _, c := range tc.challenge {
					w.Header().Add("WWW-Authenticate", c)
				}
				w.WriteHeader(http.StatusUnauthorized)
			}))
			defer srv.Close()
			s, err := NewSource(Options{Name: "dav", URL: srv.URL + "/book/", Username: "anna", Password: "s3cret", Rediscover: -1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.discover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.discover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if logins != 2 {
				t.Errorf("%d requests logged in, want 2", logins)
			}
		})
	}
}

// checkDigest verifies r's Digest Authorization for user and password.
func checkDigest(r *http.Request, user, pass string) (bool, string) {
	cred, err := digest.ParseCredentials(r.Header.Get("Authorization"))
	if err != nil || cred.Username != user || cred.QOP != "auth" {
		return false, ""
	}
	want, err := digest.Digest(&digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm, QOP: []string{"auth"}},
		digest.Options{Method: r.Method, URI: r.URL.RequestURI(), Count: cred.Nc, Username: user, Password: pass, Cnonce: cred.Cnonce})
	if err != nil || want.Response != cred.Response {
		return false, ""
	}
	return true, cred.Algorithm
}

// TestLoginErrors: a refused login and a scheme kith lacks each give one
// line that says so, with the server's own words.
func TestLoginErrors(t *testing.T) {
	t.Run("scheme kith lacks", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("WWW-Authenticate", `Bearer realm="r"`)
			w.Header().Add("WWW-Authenticate", `NTLM`)
			http.Error(w, "token needed", http.StatusUnauthorized)
		}))
		defer srv.Close()
		s, _ := NewSource(Options{Name: "dav", URL: srv.URL + "/book/", Username: "anna", Password: "s3cret"})
		_, err := s.Read(context.Background(), "")
		if err == nil || !strings.Contains(err.Error(), "asks for Bearer or NTLM login, which kith does not have") {
			t.Errorf("Read: %v", err)
		}
	})
	cases := []struct {
		name  string
		start func(testing.TB) *davtest.Server
		says  string
	}{
		{"sabre basic", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "basic") }, "the server says: Username or password was incorrect"},
		{"sabre digest", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "digest") }, "the server says: Username or password was incorrect"},
		{"radicale", davtest.StartRadicale, "the server says: Access to the requested resource forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			book := srv.MakeBook(t, "friends", "Friends")
			s, _ := NewSource(Options{Name: "dav", URL: srv.URL + book, Username: srv.Username, Password: "wrong"})
			_, err := s.Read(context.Background(), "")
			if err == nil {
				t.Fatal("Read with a wrong password succeeded")
			}
			msg := err.Error()
			for _, want := range []string{"HTTP 401", "login refused for user \"kith\"", tc.says} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "Sabre\\") {
				t.Errorf("error %q is not one clean line", msg)
			}
		})
	}
}
