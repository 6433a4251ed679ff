package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
