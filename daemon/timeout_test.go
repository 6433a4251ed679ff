package daemon

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"kith/internal/demo"
)

// silentServer accepts connections and never answers, as a server that
// hangs does; the connections are closed when the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestServerTimeouts: the timeout key of a CardDAV source, a CalDAV
// calendar and an IMAP mailbox bounds the wait for a server that hangs:
// each fails with its own error naming it, and the sync goes on with the
// rest (without the key each would wait the default two minutes, past the
// test's deadline).
func TestServerTimeouts(t *testing.T) {
	dir := t.TempDir()
	if err := demo.Extract(dir); err != nil {
		t.Fatal(err)
	}
	addr := silentServer(t)
	t.Setenv("KITH_TEST_PW", "s3cret")
	extra := `
[[source]]
name = "hung-dav"
kind = "carddav"
url = "http://` + addr + `/dav/"
timeout = "1s"

[[calendar]]
name = "hung-cal"
url = "http://` + addr + `/cal/"
timeout = "1s"

[[mail]]
name = "hung-mail"
url = "imap://` + addr + `"
username = "me"
password_env = "KITH_TEST_PW"
timeout = "1s"
`
	cfg, err := ParseConfig([]byte("user_emails = [\"me@example.org\"]\n"+demo.Config(dir)+extra), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sum, err := Once(ctx, cfg, slog.New(slog.DiscardHandler))
	if sum == nil || sum.Created == 0 || err == nil || !strings.Contains(err.Error(), "sync incomplete") {
		t.Fatalf("sync: %v (summary: %v), want it incomplete, the other sources read", err, sum)
	}
	for _, want := range []struct{ name, says string }{
		{`source "hung-dav"`, "Client.Timeout exceeded"},
		{`calendar "hung-cal"`, "Client.Timeout exceeded"},
		{`mail "hung-mail"`, "i/o timeout"},
	} {
		found := false
		for _, e := range sum.Errors {
			if strings.Contains(e, want.name) && strings.Contains(e, want.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error naming %s says %q: %q", want.name, want.says, sum.Errors)
		}
	}
	if ctx.Err() != nil {
		t.Error("the sync ran into the test's deadline: a timeout key was not applied")
	}
}

// TestTimeoutConfig: timeout goes with a server, between 1s and 1h; left
// out, each client keeps its default.
func TestTimeoutConfig(t *testing.T) {
	base := "user_emails = [\"me@example.org\"]\n"
	for _, tt := range []struct {
		name, toml, want string
	}{
		{"carddav source", "[[source]]\nname = \"d\"\nkind = \"carddav\"\nurl = \"https://dav.example.org/\"\ntimeout = \"5m\"\n", ""},
		{"carddav target", "[[source]]\nname = \"v\"\nkind = \"vdir\"\npath = \"book\"\n[[target]]\nname = \"d\"\nkind = \"carddav\"\nurl = \"https://dav.example.org/kith/\"\ntimeout = \"30s\"\n", ""},
		{"too short", "[[source]]\nname = \"d\"\nkind = \"carddav\"\nurl = \"https://dav.example.org/\"\ntimeout = \"500ms\"\n", `source "d".timeout: 500ms is not between 1s and 1h`},
		{"too long", "[[source]]\nname = \"d\"\nkind = \"carddav\"\nurl = \"https://dav.example.org/\"\ntimeout = \"2h\"\n", `source "d".timeout: 2h0m0s is not between 1s and 1h`},
		{"not a duration", "[[source]]\nname = \"d\"\nkind = \"carddav\"\nurl = \"https://dav.example.org/\"\ntimeout = \"soon\"\n", "timeout"},
		{"vdir source", "[[source]]\nname = \"v\"\nkind = \"vdir\"\npath = \"book\"\ntimeout = \"1m\"\n", `source "v".timeout: goes with url`},
		{"calendar files", "[[source]]\nname = \"v\"\nkind = \"vdir\"\npath = \"book\"\n[[calendar]]\nname = \"c\"\npaths = [\"cal.ics\"]\ntimeout = \"1m\"\n", `calendar "c".timeout: goes with url`},
		{"local mail", "[[source]]\nname = \"v\"\nkind = \"vdir\"\npath = \"book\"\n[[mail]]\nname = \"m\"\nsent = [\"Sent\"]\ntimeout = \"1m\"\n", `mail "m".timeout: goes with url`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(base+tt.toml), "/etc/kith")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if tt.name == "vdir source" && strings.Contains(err.Error(), "url, username and password") {
				t.Errorf("a timeout alone is reported as url or password keys: %v", err)
			}
		})
	}
}
