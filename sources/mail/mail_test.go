package mail

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
)

var update = flag.Bool("update", false, "rewrite golden files")

// now is the fixed clock of every test: Wednesday 25 November 2026, noon UTC.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var since = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var testMailboxes = []Mailbox{
	{Path: "testdata/Maildir/Sent", Sent: true},
	{Path: "testdata/Maildir/INBOX"},
	{Path: "testdata/archive.mbox"},
	{Path: "testdata/crlf.mbox"},
}

func newTestSource(t testing.TB, o Options) (*Source, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	if o.Name == "" {
		o.Name = "mail"
	}
	if o.Mailboxes == nil {
		o.Mailboxes = testMailboxes
	}
	if o.UserEmails == nil {
		o.UserEmails = []string{"Me@Example.org"}
	}
	o.Location = berlin(t)
	o.Now = func() time.Time { return now }
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func line(it ksync.Interaction) string {
	return fmt.Sprintf("%s %s %s %s people=%d who=%s", it.Date.Format(time.DateOnly), it.Source, it.Kind, it.Ref, it.People, strings.Join(it.Who, ","))
}

func golden(t *testing.T, name string, got []ksync.Interaction) {
	t.Helper()
	var b strings.Builder
	for _, it := range got {
		b.WriteString(line(it) + "\n")
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("interactions differ from %s (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, b.String(), want)
	}
}

func TestMailboxesGolden(t *testing.T) {
	s, logs := newTestSource(t, Options{})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got {
		if it.Date.Location() != time.UTC || it.Date.Hour() != 0 {
			t.Errorf("%s: date %v is not a UTC midnight", line(it), it.Date)
		}
	}
	golden(t, "mailboxes.golden", got)
	if !strings.Contains(logs.String(), "broken1@example.com") || !strings.Contains(logs.String(), "unreadable address") {
		t.Errorf("the broken message is not logged with its reason:\n%s", logs)
	}
}

// TestWhatCounts names, message by message, what a user would check.
func TestWhatCounts(t *testing.T) {
	s, _ := newTestSource(t, Options{})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]ksync.Interaction{}
	for _, it := range got {
		k := it.Kind + " " + it.Ref
		if _, dup := byKey[k]; dup {
			t.Errorf("%s twice", k)
		}
		byKey[k] = it
	}
	const sent, recv = ksync.KindMailSent, ksync.KindMailRecv
	tests := []struct {
		name   string
		kind   string
		ref    string
		counts bool
		date   string
		people int
		who    string
	}{
		{"sent one-to-one", sent, "s1@example.org", true, "2026-11-20", 1, "alice@example.com"},
		{"own copy of a sent mail is not received mail", recv, "s1@example.org", false, "", 0, ""},
		{"sent from an alias in the Sent folder, Bcc included", sent, "s2@work.example", true, "2026-11-14", 3, "bob@example.com,carol@example.net,dan@example.com"},
		{"sent to 12 people", sent, "s3@example.org", false, "", 0, ""},
		{"own vacation auto-reply", sent, "s4@example.org", false, "", 0, ""},
		{"sent before since", sent, "s5@example.org", false, "", 0, ""},
		{"sent to a no-reply address", sent, "s6@example.org", false, "", 0, ""},
		{"reply from someone the user wrote to", recv, "r1@example.com", true, "2026-11-21", 1, "alice@example.com"},
		{"newsletter with List-Unsubscribe", recv, "n1@shop.example", false, "", 0, ""},
		{"auto-reply", recv, "auto1@example.com", false, "", 0, ""},
		{"stranger", recv, "z1@example.com", false, "", 0, ""},
		{"stranger in new/", recv, "k1@example.com", false, "", 0, ""},
		{"tmp/ is not delivered yet", recv, "tmp1@example.com", false, "", 0, ""},
		{"RFC 2047 name, written to in the mbox, day in Berlin", recv, "j1@example.de", true, "2026-11-19", 1, "joerg@example.de"},
		{"reply to mail sent last year", recv, "e1@example.com", true, "2026-10-01", 1, "erin@example.com"},
		{"broken From header", recv, "broken1@example.com", false, "", 0, ""},
		{"Precedence: bulk", recv, "bulk1@example.net", false, "", 0, ""},
		{"bounce from MAILER-DAEMON", recv, "bounce1@mx.example.org", false, "", 0, ""},
		{"windows-1252 encoded name, date with comment", recv, "c1@example.net", true, "2026-11-15", 1, "carol@example.net"},
		{"group mail from a friend", recv, "r2@example.com", true, "2026-11-23", 4, "alice@example.com"},
		{"Auto-Submitted: no is personal", recv, "b1@example.com", true, "2026-11-16", 1, "bob@example.com"},
		{"mbox sent mail with >From and an unquoted From line in its body", sent, "m1@example.org", true, "2026-09-01", 1, "joerg@example.de"},
		{"mbox message without Date: the From_ line's", recv, "m2@example.com", true, "2026-09-02", 1, "alice@example.com"},
		{"mbox message with List-Id", recv, "m3@example.com", false, "", 0, ""},
		{"CRLF mbox", recv, "crlf1@example.com", true, "2026-10-02", 1, "alice@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ok := byKey[tt.kind+" "+tt.ref]
			if ok != tt.counts {
				t.Fatalf("counted = %v, want %v", ok, tt.counts)
			}
			if !ok {
				return
			}
			if d := it.Date.Format(time.DateOnly); d != tt.date {
				t.Errorf("date %s, want %s", d, tt.date)
			}
			if it.People != tt.people {
				t.Errorf("people %d, want %d", it.People, tt.people)
			}
			if w := strings.Join(it.Who, ","); w != tt.who {
				t.Errorf("who %s, want %s", w, tt.who)
			}
		})
	}
	// The CRLF mbox's second message has no Message-ID: it counts once,
	// under a hash.
	var hashed int
	for _, it := range got {
		if strings.HasPrefix(it.Ref, "sha256:") && it.Date.Format(time.DateOnly) == "2026-10-02" && it.Kind == sent {
			hashed++
		}
	}
	if hashed != 1 {
		t.Errorf("%d sent mails on 2026-10-02 identified by a hash, want 1", hashed)
	}
}

func TestMaxRecipients(t *testing.T) {
	for _, tt := range []struct {
		max    int
		counts bool
	}{{0, false}, {5, false}, {11, false}, {12, true}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: "testdata/Maildir/Sent", Sent: true}}, MaxRecipients: tt.max})
			got, err := s.Interactions(context.Background(), since)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, it := range got {
				found = found || it.Ref == "s3@example.org"
			}
			if found != tt.counts {
				t.Errorf("mail to 12 counted = %v, want %v", found, tt.counts)
			}
		})
	}
}

// TestMaildirDateFallback: a message without a Date header takes the
// file's time.
func TestMaildirDateFallback(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "new", "1.M1.host")
	msg := "From: me@example.org\r\nTo: pat@example.com\r\nMessage-ID: <nodate@example.org>\r\n\r\nbody\r\n"
	if err := os.WriteFile(file, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 7, 4, 22, 30, 0, 0, time.UTC) // 5 July in Berlin
	if err := os.Chtimes(file, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: dir}}})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || line(got[0]) != "2026-07-05 mail mail-sent nodate@example.org people=1 who=pat@example.com" {
		t.Errorf("got %v", got)
	}
}

func TestMailboxErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"folder that is no Maildir", dir, "not a Maildir"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: tt.path}}})
			_, err := s.Interactions(context.Background(), since)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `mail "mail"`) {
				t.Fatalf("err = %v, want one naming the source and containing %q", err, tt.want)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	mb := []Mailbox{{Path: "x"}}
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"no name", Options{Mailboxes: mb, UserEmails: []string{"a@b.c"}}, "name: missing"},
		{"no mailbox", Options{Name: "m", UserEmails: []string{"a@b.c"}}, "mailboxes: none"},
		{"empty path", Options{Name: "m", Mailboxes: []Mailbox{{}}, UserEmails: []string{"a@b.c"}}, "empty path"},
		{"no user", Options{Name: "m", Mailboxes: mb}, "user_emails: missing"},
		{"bad user", Options{Name: "m", Mailboxes: mb, UserEmails: []string{"me"}}, `"me" is not an email`},
		{"negative max", Options{Name: "m", Mailboxes: mb, UserEmails: []string{"a@b.c"}, MaxRecipients: -1}, "max_recipients"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNoReply(t *testing.T) {
	for addr, want := range map[string]bool{
		"noreply@github.com":              true,
		"no-reply@accounts.google.com":    true,
		"donotreply@bank.example":         true,
		"mailer-daemon@mx.example":        true,
		"notifications@github.com":        true,
		"noreply+abc@example.com":         true,
		"bounces-123@list.example":        true,
		"norah@example.com":               false,
		"alice@noreply.example.com":       false,
		"notification-center@example.com": false,
	} {
		if got := noReply(addr); got != want {
			t.Errorf("noReply(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Thu, 20 Nov 2026 10:00:00 +0100", "2026-11-20T09:00:00Z"},
		{"Thu, 20 Nov 2026 10:00:00 +0100 (CET)", "2026-11-20T09:00:00Z"},
		{"20 Nov 2026 10:00 GMT", "2026-11-20T10:00:00Z"},
		{"Thursday, 20 Nov 2026 10:00:00 +0100", "2026-11-20T09:00:00Z"},
		{"Thu Nov 20 10:00:00 2026", "2026-11-20T10:00:00Z"},
		{"2026-11-20T10:00:00+01:00", "2026-11-20T09:00:00Z"},
		{"yesterday", ""},
	} {
		got, err := parseDate(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("parseDate(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.UTC().Format(time.RFC3339) != tt.want {
			t.Errorf("parseDate(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
