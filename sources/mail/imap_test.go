package mail

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kith/internal/imaptest"
	ksync "kith/sync"
)

// mailMsg is one generated message.
func mailMsg(from, to, id string, date time.Time, extra ...string) string {
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: hello\nDate: %s\nMessage-ID: <%s>\n", from, to, date.Format(time.RFC1123Z), id)
	for _, e := range extra {
		h += e + "\n"
	}
	return h + "\nA body kith never fetches.\n"
}

func day(d int) time.Time { return now.AddDate(0, 0, -d) }

// fillServer puts the same kind of mail a user has into Dovecot: sent mail
// in Sent (found by its \Sent attribute), replies, a stranger and a list
// in INBOX.
func fillServer(t *testing.T, srv *imaptest.Server) {
	t.Helper()
	srv.Append(t, "Sent",
		mailMsg("me@example.org", "alice@example.com", "s1@example.org", day(30)),
		mailMsg("me@example.org", "alice@example.com", "s2@example.org", day(5)),
		mailMsg("me@example.org", "bob@example.com", "s3@example.org", day(40)),
		mailMsg("me@example.org", "many@example.com, a@x.example, b@x.example, c@x.example, d@x.example, e@x.example", "s4@example.org", day(1)),
	)
	srv.Append(t, "INBOX",
		mailMsg("Alice <alice@example.com>", "me@example.org", "r1@example.com", day(3)),
		mailMsg("bob@example.com", "me@example.org", "r2@example.com", day(20)),
		mailMsg("stranger@example.com", "me@example.org", "z1@example.com", day(2)),
		mailMsg("bob@example.com", "me@example.org", "list1@example.com", day(1), "List-Id: <friends.example.com>"),
		mailMsg("noreply@example.com", "me@example.org", "nr1@example.com", day(1)),
	)
}

func newIMAPSource(t *testing.T, o IMAP) *Source {
	t.Helper()
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{}, IMAP: &o})
	return s
}

// lastBy returns each person's last interaction day and kind.
func lastBy(ins []ksync.Interaction) map[string]string {
	last := map[string]ksync.Interaction{}
	for _, in := range ins {
		for _, w := range in.Who {
			if l, ok := last[w]; !ok || !in.Date.Before(l.Date) {
				last[w] = in
			}
		}
	}
	out := map[string]string{}
	for w, in := range last {
		out[w] = in.Date.Format(time.DateOnly) + " " + in.Kind
	}
	return out
}

func TestIMAP(t *testing.T) {
	srv := imaptest.Start(t)
	fillServer(t, srv)
	srv.Create(t, "Archive")
	srv.Append(t, "Archive", mailMsg("alice@example.com", "me@example.org", "old1@example.com", day(100)))
	proxy := imaptest.NewProxy(t, srv.Addr)
	ctx := context.Background()
	store := &countingStore{ItemStore: &ksync.MemItems{}}
	s := newIMAPSource(t, IMAP{URL: "imap://" + proxy.Addr, Username: srv.Username, Password: srv.Password,
		Received: []string{"INBOX", "Archive"}})

	v1, err := s.Update(ctx, store)
	if err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	ins, err := s.Load(ctx, store, since)
	if err != nil {
		t.Fatal(err)
	}
	got := lastBy(ins)
	want := map[string]string{
		"alice@example.com": day(3).Format(time.DateOnly) + " mail-received",
		"bob@example.com":   day(20).Format(time.DateOnly) + " mail-received",
	}
	for who, w := range want {
		if got[who] != w {
			t.Errorf("last interaction with %s: %q, want %q", who, got[who], w)
		}
	}
	for _, who := range []string{"stranger@example.com", "many@example.com", "noreply@example.com"} {
		if _, ok := got[who]; ok {
			t.Errorf("%s counted: %s", who, got[who])
		}
	}
	if !slices.ContainsFunc(ins, func(in ksync.Interaction) bool { return in.Ref == "old1@example.com" }) {
		t.Error("mail in the second received folder not counted")
	}
	if cmds := proxy.Commands(); slices.Contains(cmds, "FETCH") || !slices.Contains(cmds, "UID FETCH") {
		t.Errorf("commands %v: headers should be fetched by UID", cmds)
	}

	t.Run("second sync fetches nothing: one STATUS per folder", func(t *testing.T) {
		store.reset()
		v, err := s.Update(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if v != v1 || store.put+store.del != 0 {
			t.Errorf("version moved %v, %d stored", v != v1, store.put)
		}
		var status int
		for _, c := range proxy.Commands() {
			switch c {
			case "STATUS":
				status++
			case "LOGIN", "LOGOUT", "CAPABILITY":
			default:
				t.Errorf("command %s in a sync where nothing changed", c)
			}
		}
		if status != 3 {
			t.Errorf("%d STATUS, want 3 (Sent, INBOX, Archive)", status)
		}
	})

	t.Run("new mail is the only mail fetched", func(t *testing.T) {
		srv.Append(t, "INBOX", mailMsg("bob@example.com", "me@example.org", "r3@example.com", day(0)))
		store.reset()
		if _, err := s.Update(ctx, store); err != nil {
			t.Fatal(err)
		}
		if store.put != 1 {
			t.Errorf("%d messages stored, want 1", store.put)
		}
		ins, _ := s.Load(ctx, store, since)
		if l := lastBy(ins)["bob@example.com"]; l != day(0).Format(time.DateOnly)+" mail-received" {
			t.Errorf("bob's last: %s", l)
		}
	})

	t.Run("a folder rebuilt with a new UIDVALIDITY is read again", func(t *testing.T) {
		before, _ := srv.Status(t, "Archive")
		srv.Delete(t, "Archive")
		srv.Create(t, "Archive")
		srv.Append(t, "Archive", mailMsg("bob@example.com", "me@example.org", "new-archive@example.com", day(50)))
		after, _ := srv.Status(t, "Archive")
		if before == after {
			t.Fatalf("Dovecot kept UIDVALIDITY %d", after)
		}
		if _, err := s.Update(ctx, store); err != nil {
			t.Fatal(err)
		}
		ins, _ := s.Load(ctx, store, since)
		var refs []string
		for _, in := range ins {
			refs = append(refs, in.Ref)
		}
		if slices.Contains(refs, "old1@example.com") || !slices.Contains(refs, "new-archive@example.com") {
			t.Errorf("after the rebuild: %v", refs)
		}
	})

	t.Run("wrong password: reported, nothing lost", func(t *testing.T) {
		bad := newIMAPSource(t, IMAP{URL: "imap://" + proxy.Addr, Username: srv.Username, Password: "wrong",
			Received: []string{"INBOX", "Archive"}})
		_, err := bad.Update(ctx, store)
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), `mail "mail"`) || !strings.Contains(err.Error(), "refused") ||
			!strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("err = %v, want one naming the mailbox and a refused login", err)
		}
		if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "password: wrong") {
			t.Errorf("the password is in the error: %v", err)
		}
		ins, err := bad.Load(ctx, store, since)
		if err != nil || len(ins) == 0 {
			t.Errorf("interactions lost after a failed login: %d, %v", len(ins), err)
		}
	})

	t.Run("missing folder: reported by name", func(t *testing.T) {
		bad := newIMAPSource(t, IMAP{URL: "imap://" + proxy.Addr, Username: srv.Username, Password: srv.Password,
			Received: []string{"Nope"}})
		_, err := bad.Update(ctx, &ksync.MemItems{})
		if err == nil || !strings.Contains(err.Error(), `folder "Nope"`) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestIMAPDroppedConnection: a connection cut in the middle of the first
// read reports an error; what was stored stays, and the next sync goes on
// from there and fetches only the rest.
func TestIMAPDroppedConnection(t *testing.T) {
	srv := imaptest.Start(t)
	var msgs []string
	for i := range 30 {
		msgs = append(msgs, mailMsg("me@example.org", fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("m%d@example.org", i), day(i)))
	}
	srv.Append(t, "Sent", msgs...)
	proxy := imaptest.NewProxy(t, srv.Addr)
	ctx := context.Background()
	store := &countingStore{ItemStore: &ksync.MemItems{}}
	s := newIMAPSource(t, IMAP{URL: "imap://" + proxy.Addr, Username: srv.Username, Password: srv.Password})
	s.imap.batch = 10

	// Enough for the login, the folder lookup and some batches, not all.
	proxy.CutAfter(7000)
	_, err := s.Update(ctx, store)
	if err == nil || !strings.Contains(err.Error(), `mail "mail"`) || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("err = %v, want a lost connection naming the mailbox", err)
	}
	t.Logf("cut: %v (%d stored)", err, store.put)
	kept := store.put
	if kept == 0 || kept >= 30 {
		t.Fatalf("%d stored before the cut; the test wants a cut between batches", kept)
	}
	proxy.CutAfter(0)
	store.reset()
	var shown []string
	pctx := ksync.WithProgress(ctx, func(line string) { shown = append(shown, line) })
	if _, err := s.Update(pctx, store); err != nil {
		t.Fatal(err)
	}
	if len(shown) < 2 || !strings.Contains(shown[len(shown)-1], fmt.Sprintf("%d of %d messages read", 30-kept, 30-kept)) {
		t.Errorf("progress shown: %q", shown)
	}
	if store.put != 30-kept {
		t.Errorf("resumed read stored %d, want the %d left", store.put, 30-kept)
	}
	ins, _ := s.Load(ctx, store, since)
	if len(ins) != 30 {
		t.Errorf("%d interactions, want 30", len(ins))
	}
}

// dialVia returns a dialer that reaches addr whatever address it is asked
// for: the client connects to imaptest.Host, a name that is not loopback
// (so kith holds it to TLS, as a home server's), and the test resolves it.
func dialVia(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// TestIMAPTLS: a home server with a certificate from its own CA is read
// over implicit TLS (imaps://) and over STARTTLS (imap:// to a host that
// is not loopback) when ca_file trusts that CA; without it the read fails
// saying the certificate is not trusted and how to trust it; a server that
// offers no STARTTLS is refused. In none of the failures does the password
// go out before TLS is up: no LOGIN or AUTHENTICATE is seen in the clear.
func TestIMAPTLS(t *testing.T) {
	srv := imaptest.Start(t)
	fillServer(t, srv)
	plain := imaptest.StartWithoutTLS(t)
	fillServer(t, plain)
	ctx := context.Background()
	want := func() []string {
		s := newIMAPSource(t, IMAP{URL: srv.URL(), Username: srv.Username, Password: srv.Password})
		store := &ksync.MemItems{}
		if _, err := s.Update(ctx, store); err != nil {
			t.Fatal(err)
		}
		ins, err := s.Load(ctx, store, since)
		if err != nil || len(ins) == 0 {
			t.Fatalf("plain read over loopback: %d interactions, %v", len(ins), err)
		}
		var out []string
		for _, in := range ins {
			out = append(out, in.Ref+" "+in.Kind)
		}
		return out
	}()
	for _, tt := range []struct {
		name, url string
		addr      string // where the client's connection goes
		caFile    string
		err       []string // "" when the read works
	}{
		{"imaps, CA in ca_file", "imaps://" + imaptest.Host, srv.TLSAddr, srv.CAFile, nil},
		{"STARTTLS, CA in ca_file", "imap://" + imaptest.Host, srv.Addr, srv.CAFile, nil},
		{"imaps, CA not trusted", "imaps://" + imaptest.Host, srv.TLSAddr, "", []string{"TLS", "certificate", "ca_file"}},
		{"STARTTLS, CA not trusted", "imap://" + imaptest.Host, srv.Addr, "", []string{"STARTTLS", "certificate", "ca_file"}},
		{"server without STARTTLS", "imap://" + imaptest.Host, plain.Addr, srv.CAFile, []string{"STARTTLS", "password never goes in the clear"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := imaptest.NewProxy(t, tt.addr)
			s := newIMAPSource(t, IMAP{URL: tt.url, Username: srv.Username, Password: srv.Password, CAFile: tt.caFile, dial: dialVia(proxy.Addr)})
			store := &ksync.MemItems{}
			_, err := s.Update(ctx, store)
			cmds := proxy.Commands()
			if slices.Contains(cmds, "LOGIN") || slices.Contains(cmds, "AUTHENTICATE") {
				t.Errorf("the password went out in the clear: commands %q", cmds)
			}
			if strings.HasPrefix(tt.url, "imap://") && (len(cmds) == 0 || cmds[0] != "STARTTLS") {
				t.Errorf("the first command was not STARTTLS: %q", cmds)
			}
			if tt.err == nil {
				if err != nil {
					t.Fatalf("%v\n%s", err, srv.Log())
				}
				ins, err := s.Load(ctx, store, since)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, in := range ins {
					got = append(got, in.Ref+" "+in.Kind)
				}
				if !slices.Equal(got, want) {
					t.Errorf("read %q, want %q as over loopback", got, want)
				}
				return
			}
			if err == nil {
				t.Fatal("the read succeeded")
			}
			for _, w := range append(tt.err, `mail "mail"`) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), srv.Password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	t.Run("ca_file without a certificate", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(bad, []byte("not a certificate\n"), 0o600)
		_, err := New(Options{Name: "mail", UserEmails: []string{"me@example.org"}, IMAP: &IMAP{URL: "imaps://" + imaptest.Host, Username: "u", Password: "p", CAFile: bad}})
		if err == nil || !strings.Contains(err.Error(), "ca_file") || !strings.Contains(err.Error(), "no PEM certificate") {
			t.Errorf("err = %v, want one naming ca_file", err)
		}
	})
}

func TestIMAPOptions(t *testing.T) {
	for _, tt := range []struct {
		o    IMAP
		want string
	}{
		{IMAP{URL: "https://mail.example.com", Username: "u", Password: "p"}, "scheme must be imaps or imap"},
		{IMAP{URL: "imaps://u:p@mail.example.com", Username: "u", Password: "p"}, "must not hold a user"},
		{IMAP{URL: "imaps://mail.example.com/INBOX", Username: "u", Password: "p"}, "not in the URL"},
		{IMAP{URL: "imaps://mail.example.com", Password: "p"}, "username: missing"},
		{IMAP{URL: "imaps://mail.example.com", Username: "u"}, "password: missing"},
	} {
		_, err := New(Options{Name: "m", IMAP: &tt.o, UserEmails: []string{"me@example.org"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.o, err, tt.want)
		}
	}
}
