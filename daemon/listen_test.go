package daemon

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davserver"
)

// The daemon serves the merged book: a phone logs in and finds the card.
func TestServeServesTheBook(t *testing.T) {
	addr, _ := serveWithBook(t)
	base := "http://" + addr

	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, _ := http.Get(base + "/dav/anna/contacts/people/"); resp == nil || resp.StatusCode != 401 {
		t.Fatalf("no login: %v, want 401", resp)
	}
	var body string
	eventually(t, "the card on the served book", func() bool {
		req, _ := http.NewRequest("PROPFIND", base+"/dav/anna/contacts/people/", strings.NewReader(
			`<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`))
		req.Header.Set("Depth", "1")
		req.SetBasicAuth("anna", "correct horse")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 207 && strings.Contains(body, "kith-")
	})
}

// A phone's edit on the served book is merged within seconds, not at the
// next interval (an hour in this config).
func TestPhoneEditTriggersASync(t *testing.T) {
	addr, dir := serveWithBook(t)

	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-new\r\nFN:Hedy Lamarr\r\nN:Lamarr;Hedy;;;\r\nEMAIL:hedy@example.org\r\nEND:VCARD\r\n"
	req, _ := http.NewRequest("PUT", "http://"+addr+"/dav/anna/contacts/people/phone-new.vcf", strings.NewReader(card))
	req.Header.Set("If-None-Match", "*")
	req.Header.Set("Content-Type", "text/vcard")
	req.SetBasicAuth("anna", "correct horse")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("PUT from the phone: %v %v", resp, err)
	}
	resp.Body.Close()
	// The new contact is merged: it reaches the vdir target too.
	eventually(t, "the phone's new contact in the vdir target", func() bool {
		ents, _ := os.ReadDir(filepath.Join(dir, "people"))
		for _, e := range ents {
			if b, _ := os.ReadFile(filepath.Join(dir, "people", e.Name())); strings.Contains(string(b), "Hedy Lamarr") {
				return true
			}
		}
		return false
	})
}

// serveWithBook runs the daemon with [server] on a free port and a login
// anna / "correct horse", waits for its first sync, and returns the
// server's address and the daemon's folder.
func serveWithBook(t *testing.T) (addr, dir string) {
	t.Helper()
	cfgPath, dir := daemonSetup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	if err := davserver.SetPassword(filepath.Join(dir, "users"), "anna", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(cfg, []byte("\n[server]\nlisten = \""+addr+"\"\nusers_file = \"users\"\n")...), 0o600)
	_, msgs, _ := runServe(t, cfgPath)
	waitMsg(t, msgs, "STATUS=2 sources") // the first sync is done
	return addr, dir
}
