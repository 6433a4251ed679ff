package davserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"
)

// serveEnv serves e's server on a real listener (Serve, with its timeouts
// and connection cap) and returns its address.
func serveEnv(t *testing.T, e *testEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln, "", "") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func authHeader() string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)) + "\r\n"
}

// closedByServer reports whether the server closes c while the client keeps
// trickling bytes into it (for at most 30 s).
func closedByServer(t *testing.T, c net.Conn, trickle string) bool {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(closed)
	}()
	stop := time.After(30 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-closed:
			return true
		case <-stop:
			return false
		case <-time.After(50 * time.Millisecond):
			c.Write([]byte{trickle[i%len(trickle)]})
		}
	}
}

// TestSlowClientsCut: a client trickling its headers (no login needed for
// that) or its body a byte at a time loses its connection once the read
// timeout is over, instead of holding it for ever.
func TestSlowClientsCut(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ReadTimeout = 500 * time.Millisecond })
	addr := serveEnv(t, e)
	t.Run("headers", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
		if !closedByServer(t, c, "X-Slow: aaaaaaaa\r\n") {
			t.Fatal("a client trickling headers kept its connection")
		}
	})
	t.Run("body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("PUT " + bookHref + "slow.vcf HTTP/1.1\r\nHost: x\r\n" + authHeader() +
			"Content-Type: text/vcard\r\nContent-Length: 100000\r\n\r\n"))
		if !closedByServer(t, c, "BEGIN:VCARD\r\n") {
			t.Fatal("a client trickling its body kept its connection")
		}
	})
	// The server still answers.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusOK)
}

// TestConnsPerAddrCapped: one address holds at most MaxConnsPerAddr
// connections; one more is closed at once, and a place freed is usable
// again.
func TestConnsPerAddrCapped(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxConnsPerAddr = 3 })
	addr := serveEnv(t, e)
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request answered shows the server took the connection.
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, resp, http.StatusOK)
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("a fourth connection was served (read %d, %v)", n, err)
	}
	c.Close()

	held[0].Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			wantStatus(t, resp, http.StatusOK)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection after one was freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func withLog(l *logBuffer) envOption {
	return func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestFailedLoginsBounded: logins under made-up names, long ones included,
// never put the name in the log nor cost memory per name; a known user's
// failed login is logged under its name.
func TestFailedLoginsBounded(t *testing.T) {
	var logs logBuffer
	e := newEnv(t, withLog(&logs))
	wantStatus(t, e.doAs(t, "hunter2-typed-as-name", "pw", "PROPFIND", "/", ""), http.StatusUnauthorized)
	for i := range freeFailures - 1 {
		name := strings.Repeat("n", 40000) + strings.Repeat("z", i)
		wantStatus(t, e.doAs(t, name, "pw", "PROPFIND", "/", ""), http.StatusUnauthorized)
	}
	e.srv.limiter.mu.Lock()
	n := len(e.srv.limiter.m)
	e.srv.limiter.mu.Unlock()
	if n > 2 {
		t.Fatalf("limiter tracks %d keys after one address tried many names, want the address (and one real-looking name)", n)
	}
	e.clock.Add(time.Hour)
	wantStatus(t, e.doAs(t, testUser, "wrong", "PROPFIND", "/", ""), http.StatusUnauthorized)
	out := logs.String()
	if strings.Contains(out, "nnnnnnnn") || strings.Contains(out, "hunter2") {
		t.Fatalf("a made-up user name was logged:\n%.500s", out)
	}
	if !strings.Contains(out, "user="+testUser) {
		t.Fatalf("the known user's failed login was not logged by name:\n%.2000s", out)
	}
}

// TestBrokenBodies: malformed chunked encoding and a body cut short by a
// client that went away are the client's mistakes: 400, and nothing logged
// as a server error.
func TestBrokenBodies(t *testing.T) {
	var logs logBuffer
	e := newEnv(t, withLog(&logs))
	addr := serveEnv(t, e)
	card := vcard3("cut", "Cut Short", "")
	for _, tc := range []struct{ name, req string }{
		{"bad chunk size", "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + card + "\r\n0\r\n\r\n"},
		{"chunk longer than said", "Transfer-Encoding: chunked\r\n\r\n5\r\n" + card + "\r\n0\r\n\r\n"},
		{"body cut short", "Content-Length: 5000\r\n\r\n" + card},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			c.Write([]byte("PUT " + bookHref + "cut.vcf HTTP/1.1\r\nHost: x\r\n" + authHeader() + "Content-Type: text/vcard\r\n" + tc.req))
			c.(*net.TCPConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, resp, http.StatusBadRequest)
		})
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("client mistakes logged as errors:\n%s", logs.String())
	}
	wantStatus(t, e.do(t, http.MethodGet, bookHref+"cut.vcf", ""), http.StatusNotFound)
}

// TestForwardedForBounded: behind a proxy, failed logins count against the
// address in X-Forwarded-For; a value there that is no address (a
// misconfigured proxy passing on what the client sent) is not used, so it
// can neither choose nor grow the limiter's keys.
func TestForwardedForBounded(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TrustForwardedFor = true })
	wantStatus(t, e.doAs(t, testUser, "wrong", "PROPFIND", "/", "", "X-Forwarded-For", "203.0.113.7"), http.StatusUnauthorized)
	wantStatus(t, e.doAs(t, testUser, "wrong", "PROPFIND", "/", "", "X-Forwarded-For", strings.Repeat("x", 30000)), http.StatusUnauthorized)
	e.srv.limiter.mu.Lock()
	defer e.srv.limiter.mu.Unlock()
	var keys []string
	for k := range e.srv.limiter.m {
		keys = append(keys, k)
		if len(k) > 100 {
			t.Errorf("limiter key of %d bytes", len(k))
		}
	}
	if _, ok := e.srv.limiter.m["ip:203.0.113.7"]; !ok {
		t.Errorf("the forwarded address is not tracked: %v", keys)
	}
}
