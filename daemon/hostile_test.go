package daemon

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"kith/internal/davserver"
)

// hostileFiles puts into the daemon's folders what a careless program or an
// attacker with write access to them might: FIFOs, links out of the folder
// to secrets, a card with a huge photo, a card with thousands of phones, a
// CSV with millions of columns, calendars nested half a million deep, with
// 100k RDATEs, or too big. It returns the card files it added that must
// sync (links inside the folder).
func hostileFiles(t *testing.T, dir string) {
	t.Helper()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		// Written whole, as a careful program does (a hidden temporary
		// file, then a rename): a sync that reads a file halfway through a
		// slow write sees a new version afterwards and rightly reports it
		// again, which is not what this test is about.
		tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".part")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"scans/pipe.vcf", "book/pipe.vcf", "scans/pipe.csv", "cal/pipe.ics"} {
		if err := syscall.Mkfifo(filepath.Join(dir, p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link("/proc/self/environ", "scans/env.csv")
	link("../users", "scans/users.csv")
	link("/etc/shadow", "scans/shadow.vcf")
	link("../users", "book/users.vcf")
	link("/proc/self/environ", "book/env.vcf")
	write("scans/sub/linked.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lise Meitner\r\nN:Meitner;Lise;;;\r\nEND:VCARD\r\n")
	link("sub/linked.vcf", "scans/inside.vcf") // inside the folder: followed

	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Huge\r\nPHOTO;ENCODING=b;TYPE=JPEG:")
	for b.Len() < 20<<20 {
		b.WriteString(strings.Repeat("QUFB", 18) + "\r\n ")
	}
	b.WriteString("\r\nEND:VCARD\r\n")
	write("book/huge.vcf", b.String())
	b.Reset()
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Wide\r\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "TEL:+49 171 %07d\r\nEMAIL:w%d@example.org\r\nCATEGORIES:c%d\r\n", i, i, i)
	}
	b.WriteString("END:VCARD\r\n")
	write("scans/wide.vcf", b.String())
	write("scans/wide.csv", "Name,Email,"+strings.Repeat("x,", 3_000_000)+"\nAda,ada@example.org\n")

	b.Reset()
	b.WriteString("BEGIN:VCALENDAR\r\n")
	for range 500_000 {
		b.WriteString("BEGIN:X\r\n")
	}
	write("cal/nested.ics", b.String())
	b.Reset()
	b.WriteString("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:many\r\nDTSTART;VALUE=DATE:20200101\r\nORGANIZER:mailto:anna@example.org\r\nATTENDEE:mailto:ada@example.org\r\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "RDATE;VALUE=DATE:%s\r\n", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("20060102"))
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	write("cal/rdates.ics", b.String())
	write("cal/huge.ics", "BEGIN:VCALENDAR\r\n"+strings.Repeat("X-PAD:"+strings.Repeat("p", 90)+"\r\n", 100_000)+"END:VCALENDAR\r\n")
}

// secrets returns strings that must never reach a log, a STATUS line or the
// runs table: a value of the process environment, the login's bcrypt hash,
// the first password hash of /etc/shadow.
func secrets(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	env, _ := os.ReadFile("/proc/self/environ")
	for _, kv := range bytes.Split(env, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok && k == "PATH" && len(v) > 8 {
			out = append(out, v)
		}
	}
	users, err := os.ReadFile(filepath.Join(dir, "users"))
	if err != nil {
		t.Fatal(err)
	}
	_, hash, _ := strings.Cut(strings.TrimSpace(string(users)), ":")
	out = append(out, hash[7:]) // past "$2a$10$"
	if shadow, err := os.ReadFile("/etc/shadow"); err == nil {
		f := strings.Split(strings.SplitN(string(shadow), "\n", 2)[0], ":")
		if len(f) > 1 && len(f[1]) > 4 {
			out = append(out, f[1])
		}
	}
	return out
}

// The daemon meets hostile files in its source folders: it stays up,
// answers /healthz, stops on request, keeps its memory bounded, keeps every
// contact it had, reports each problem once and quotes no secret.
func TestHostileFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 60 MB of hostile files")
	}
	cfgPath, dir := daemonSetup(t)
	os.Mkdir(filepath.Join(dir, "cal"), 0o700)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := davserver.SetPassword(filepath.Join(dir, "users"), "anna", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	cfg := "user_emails = [\"anna@example.org\"]\n" + daemonConfig + `
[[calendar]]
name = "cal"
paths = ["cal"]

[limits]
calendar_size = "8MB"

[server]
listen = "` + addr + `"
users_file = "users"
`
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	os.WriteFile(filepath.Join(dir, "scans", "grace.vcf"), []byte(strings.NewReplacer("Ada Lovelace", "Grace Hopper", "Lovelace;Ada", "Hopper;Grace").Replace(testCard)), 0o600)

	// Peak heap while the daemon works, sampled.
	var peak uint64
	var mu gosync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapAlloc)
			mu.Unlock()
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stopSampling); <-sampled }()

	logs, msgs, stop := runServe(t, cfgPath)
	var status []string
	waitStatus := func(what string, cond func(string) bool) string {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case m := <-msgs:
				status = append(status, m)
				if strings.Contains(m, "STATUS=") && cond(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("%s: no such STATUS within 60s; got %q", what, status)
			}
		}
	}
	waitStatus("first sync", func(m string) bool { return strings.Contains(m, "2 contacts") })
	_ = stop
	people := filepath.Join(dir, "people")
	eventually(t, "Ada and Grace in the target", func() bool { return countVCF(people) == 2 })

	hostileFiles(t, dir)
	want := []string{
		`item=pipe.vcf reason="not a regular file (a named pipe): not read"`,
		`item=env.csv reason="symbolic link to a file outside the folder: not followed"`,
		`item=users.vcf reason="symbolic link to a file outside the folder: not followed"`,
		`item=huge.vcf reason="file: 20 MiB, over the limit [limits] card_size = 16 MiB"`,
		`item=wide.vcf reason="card 1: card: more than 2000 properties, over the limit [limits] properties = 2000"`,
		`item=wide.csv reason="header: 3000003 columns, over the limit [limits] csv_columns = 1000"`,
	}
	// The machine may be slow: a minute, like eventually.
	logged := func(what string, want []string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(logs.String(), w) })
			if len(missing) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: log lacks %q", what, missing)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	logged("every hostile card file reported", want)
	healthz := func() {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	healthz()
	// Ada and Grace kept; Lise read through a link inside the folder (and
	// from her own file: two scanned cards with a name only, two contacts).
	eventually(t, "the card behind a link inside the folder synced, nothing lost", func() bool { return countVCF(people) == 4 })

	// A later change syncs, and the hostile files are not reported again.
	os.WriteFile(filepath.Join(dir, "scans", "hedy.vcf"), []byte(strings.NewReplacer("Ada Lovelace", "Hedy Lamarr", "Lovelace;Ada", "Lamarr;Hedy").Replace(testCard)), 0o600)
	m := waitStatus("sync after a good change", func(m string) bool { return strings.Contains(m, "5 contacts") })
	if strings.Contains(m, "skipped") {
		t.Errorf("the hostile files were reported again: %s", m)
	}
	eventually(t, "Hedy in the target", func() bool { return countVCF(people) == 5 })
	healthz()
	// Calendars are read on every sync (they are not watched): this one
	// read the hostile calendars.
	logged("every hostile calendar reported", []string{`calendar_depth = 20`, `calendar_size = 8 MiB`,
		`path=` + filepath.Join(dir, "cal", "pipe.ics") + ` reason="not a regular file"`})

	mu.Lock()
	p := peak
	mu.Unlock()
	if p > 1<<30 {
		t.Errorf("peak heap %d MB while reading hostile files", p>>20)
	}
	t.Logf("peak heap %d MB", p>>20)

	if err := stop(); err != nil { // with FIFOs in the folders
		t.Fatal(err)
	}
	log := logs.String()
	db, err := sql.Open("sqlite", filepath.Join(dir, "state", "kith.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs strings.Builder
	rows, err := db.Query("SELECT summary FROM runs")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		runs.WriteString(s)
	}
	rows.Close()
	if !strings.Contains(runs.String(), "symbolic link") {
		t.Errorf("runs table does not record the skipped links: %s", runs.String())
	}
	for _, s := range secrets(t, dir) {
		for where, text := range map[string]string{"log": log, "STATUS": strings.Join(status, "\n"), "runs table": runs.String()} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds a secret (%.12s…)", where, s)
			}
		}
	}
}
