package daemon

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/internal/davserver"
)

// A scheduled sync (here a retry) runs on time even while a file in a
// watched folder is still being written: a scanner app that never finishes
// a file must not hold back every sync.
func TestScheduledSyncIsNotPostponedByAFileBeingWritten(t *testing.T) {
	cfgPath, dir := daemonSetup(t)
	logs, msgs, _ := runServe(t, cfgPath, func(o *options) {
		o.retryMin = 200 * time.Millisecond
		o.timing.MaxWait = time.Hour // the watcher alone would wait that long
	})
	waitMsg(t, msgs, "STATUS=2 sources")
	// The vdir source's folder goes: syncs fail from now on and are retried
	// on a schedule.
	if err := os.RemoveAll(filepath.Join(dir, "book")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed sync", func() bool { return strings.Contains(logs.String(), "sync incomplete; retrying") })
	os.WriteFile(filepath.Join(dir, "scans", "half.vcf"), []byte(testCard[:20]), 0o600)
	time.Sleep(3 * fastTiming.Debounce) // the watcher has seen it
	before := strings.Count(logs.String(), `msg="sync done"`)
	eventually(t, "a retry while a card is half written", func() bool {
		return strings.Count(logs.String(), `msg="sync done"`) > before
	})
}

// A client that writes to the served book without pause (more often than
// Debounce) gets its edits synced MaxWait after the first, not never.
func TestBookEditsWithoutPauseAreSynced(t *testing.T) {
	cfgPath, dir := daemonSetup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := davserver.SetPassword(filepath.Join(dir, "users"), "anna", []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(cfg, []byte("\n[server]\nlisten = \""+addr+"\"\nusers_file = \"users\"\n")...), 0o600)
	// A Debounce longer than the test waits: only MaxWait can start the sync.
	logs, msgs, _ := runServe(t, cfgPath, func(o *options) { o.timing.Debounce, o.timing.MaxWait = time.Minute, 500*time.Millisecond })
	waitMsg(t, msgs, "STATUS=2 sources")
	before := strings.Count(logs.String(), `msg="sync done"`)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p%d\r\nFN:Person %d\r\nN:%d;Person;;;\r\nEND:VCARD\r\n", i, i, i)
			req, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/dav/anna/contacts/people/p%d.vcf", addr, i), strings.NewReader(card))
			req.Header.Set("If-None-Match", "*")
			req.Header.Set("Content-Type", "text/vcard")
			req.SetBasicAuth("anna", "correct horse")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	eventually(t, "a sync while the client keeps writing", func() bool {
		return strings.Count(logs.String(), `msg="sync done"`) > before
	})
}
