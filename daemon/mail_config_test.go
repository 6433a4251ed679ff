package daemon

import (
	"os"
	"strings"
	"testing"
)

// TestMailConfig: [[mail]] takes local paths or an IMAP server, with the
// password kept out of the config.
func TestMailConfig(t *testing.T) {
	base := `user_emails = ["me@example.org"]
[[source]]
name = "book"
kind = "vdir"
path = "book"
`
	for _, tt := range []struct {
		name, mail, want string
	}{
		{"imaps with defaults", `url = "imaps://mail.example.org"
username = "me"
password_env = "MAIL_PW"`, ""},
		{"imap with folders", `url = "imap://127.0.0.1:1143"
username = "me"
password_file = "pw"
sent = ["Sent Items"]
received = ["INBOX", "Archive/2026"]`, ""},
		{"local", `sent = ["Maildir/Sent"]`, ""},
		{"https url", `url = "https://mail.example.org"
username = "me"
password_env = "X"`, "not an imaps:// or imap:// URL"},
		{"password in url", `url = "imaps://me:pw@mail.example.org"
username = "me"
password_env = "X"`, "must not hold a user or password"},
		{"no password", `url = "imaps://mail.example.org"
username = "me"`, "password_file: missing"},
		{"no username", `url = "imaps://mail.example.org"
password_env = "X"`, "username: missing"},
		{"username without url", `sent = ["Maildir/Sent"]
username = "me"`, "go with url"},
		{"nothing", ``, "no mailbox given"},
		{"ca_file", `url = "imap://mail.home.lan"
username = "me"
password_env = "X"
ca_file = "home-ca.pem"`, ""},
		{"ca_file without url", `sent = ["Maildir/Sent"]
ca_file = "home-ca.pem"`, "ca_file: goes with url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(base+"[[mail]]\nname = \"m\"\n"+tt.mail+"\n"), "/etc/kith")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				m := cfg.Mail[0]
				if m.URL != "" && len(m.Received) > 0 && m.Received[0] != "INBOX" {
					t.Errorf("IMAP folder names taken for paths: %q", m.Received)
				}
				if m.CAFile != "" && m.CAFile != "/etc/kith/home-ca.pem" {
					t.Errorf("ca_file not made absolute: %q", m.CAFile)
				}
				if m.URL == "" && !strings.HasPrefix(m.Sent[0], "/etc/kith/") {
					t.Errorf("local path not made absolute: %q", m.Sent[0])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `mail "m"`) {
				t.Fatalf("err = %v, want %q naming the mail table", err, tt.want)
			}
		})
	}
}

// TestExampleMailBlocks: the commented [[mail]] and [[phonelog]] examples
// of config.example.toml parse once uncommented.
func TestExampleMailBlocks(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case l == "#[[mail]]" || l == "#[[phonelog]]":
			cur = []string{l[1:]}
		case cur != nil && strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "# "):
			cur = append(cur, l[1:])
		case cur != nil:
			blocks = append(blocks, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	if len(blocks) != 4 {
		t.Fatalf("%d example blocks, want 4 (Maildir, Dovecot, Fastmail, phone log)", len(blocks))
	}
	cfg, err := ParseConfig([]byte("user_emails = [\"anna@example.org\"]\n[[source]]\nname = \"book\"\nkind = \"vdir\"\npath = \"book\"\n"+
		strings.Join(blocks, "\n")+"\n"), "/etc/kith")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Mail) != 3 || len(cfg.PhoneLogs) != 1 {
		t.Errorf("%d mail, %d phonelog tables", len(cfg.Mail), len(cfg.PhoneLogs))
	}
}
