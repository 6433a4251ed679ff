package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/internal/imaptest"
	"kith/internal/state"
	"kith/sync/card"
)

// An IMAP [[mail]] configured like a user's Dovecot, over imaps:// with a
// certificate from the user's own CA trusted by ca_file: sent mail to Carol
// dates her last interaction; a second sync reads no mail and leaves the
// cards alone; the password, given by password_file, is in no log, no
// error and no state. A ca_file that holds no certificate stops the
// runner with an error naming the key.
func TestIMAPMailInteractions(t *testing.T) {
	srv := imaptest.Start(t)
	cfg, dir := demoSetup(t)
	srv.Append(t, "Sent", "From: Me <me@example.org>\nTo: Carol Miller <carol.miller@example.com>\n"+
		"Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <imap1@example.org>\nSubject: school fair\n\nhello\n")
	pw := filepath.Join(dir, "imap-password")
	os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600)
	cfg.UserEmails = []string{"me@example.org"}
	_, port, _ := strings.Cut(srv.TLSAddr, ":")
	cfg.Mail = []MailConfig{{Name: "dovecot", DAV: DAV{URL: "imaps://localhost:" + port, Username: srv.Username, PasswordFile: pw, CAFile: filepath.Join(dir, "bad-ca.pem")}}}
	os.WriteFile(cfg.Mail[0].CAFile, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o600)
	if _, err := NewRunner(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), `mail "dovecot": ca_file:`) {
		t.Fatalf("NewRunner with a ca_file without a certificate: %v, want an error naming the key", err)
	}
	cfg.Mail[0].CAFile = srv.CAFile

	var logs bytes.Buffer
	run := func() *Summary {
		t.Helper()
		r, err := NewRunner(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		r.Now = func() time.Time { return fixedNow }
		st, err := state.Open(context.Background(), cfg.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sum, err := r.Sync(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	if sum := run(); len(sum.Errors) > 0 {
		t.Fatalf("%s\n%s", sum, srv.Log())
	}
	found := false
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		c, _ := card.Decode([]byte(body))
		if card.Text(c.Value("FN")) == "Carol Miller" {
			found = true
			if got := c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND"); got != "2026-11-21 mail-sent" {
				t.Errorf("Carol's last interaction %q, want 2026-11-21 mail-sent", got)
			}
		}
	}
	if !found {
		t.Fatal("no merged card for Carol Miller")
	}
	if sum := run(); sum.Created+sum.Updated != 0 || len(sum.Errors) > 0 {
		t.Errorf("second sync: %s", sum)
	}

	// A wrong password: one error naming the mailbox; Carol keeps her mail.
	os.WriteFile(pw, []byte("not the password\n"), 0o600)
	sum := run()
	if len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], `mail "dovecot"`) || !strings.Contains(sum.Errors[0], "refused") {
		t.Errorf("errors %q, want one naming the mailbox and the refused login", sum.Errors)
	}
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		if strings.Contains(body, "FN:Carol Miller") && !strings.Contains(body, "X-KITH-LAST-INTERACTION:2026-11-21") {
			t.Errorf("Carol's mail forgotten while the server refused the login:\n%s", body)
		}
	}
	db, _ := os.ReadFile(filepath.Join(cfg.StateDir, state.FileName))
	wal, _ := os.ReadFile(filepath.Join(cfg.StateDir, state.FileName+"-wal"))
	for what, b := range map[string][]byte{"log": logs.Bytes(), "state": db, "state WAL": wal, "summary": []byte(fmt.Sprint(sum.Errors))} {
		if bytes.Contains(b, []byte(srv.Password)) || bytes.Contains(b, []byte("not the password")) {
			t.Errorf("a password is in the %s", what)
		}
	}
}
