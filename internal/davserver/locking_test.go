package davserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"
)

// TestClientWritesDuringSync runs client PUTs and DELETEs while another
// writer of the same database (what kith's sync does when it saves its
// state) reads and writes in transactions of its own: every client request
// waits its turn and succeeds, and so does every state write.
func TestClientWritesDuringSync(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	var syncErrs []error
	var wg gosync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		db := e.store.DB()
		for i := 0; ctx.Err() == nil; i++ {
			err := func() error {
				tx, err := db.BeginTx(context.Background(), nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				var n int
				if err := tx.QueryRow(`SELECT count(*) FROM dav_cards`).Scan(&n); err != nil {
					return err
				}
				for j := range 20 {
					if _, err := tx.Exec(`INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)`,
						fmt.Sprintf("test.%d", j), fmt.Sprint(i, n)); err != nil {
						return err
					}
				}
				return tx.Commit()
			}()
			if err != nil {
				syncErrs = append(syncErrs, err)
			}
			time.Sleep(time.Millisecond) // a sync does other work between saves
		}
	}()

	var mu gosync.Mutex
	var failures []string
	var cw gosync.WaitGroup
	for c := range 3 {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for i := range 30 {
				href := fmt.Sprintf("%sc%d-%d.vcf", bookHref, c, i)
				resp := e.do(t, http.MethodPut, href, vcard3(fmt.Sprintf("c%d-%d", c, i), "Person", ""),
					"Content-Type", "text/vcard", "If-None-Match", "*")
				body := readBody(t, resp)
				if resp.StatusCode != http.StatusCreated {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("PUT %s: %d %s", href, resp.StatusCode, strings.TrimSpace(body)))
					mu.Unlock()
					continue
				}
				if i%2 == 0 {
					resp := e.do(t, http.MethodDelete, href, "", "If-Match", resp.Header.Get("ETag"))
					body := readBody(t, resp)
					if resp.StatusCode != http.StatusNoContent {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("DELETE %s: %d %s", href, resp.StatusCode, strings.TrimSpace(body)))
						mu.Unlock()
					}
				}
			}
		}()
	}
	cw.Wait()
	cancel()
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	for _, err := range syncErrs {
		t.Errorf("state write: %v", err)
	}
}

// TestDiskFullAnswers507 fills the database (its page limit stands in for a
// full disk: SQLite answers both with SQLITE_FULL): a PUT gets 507
// Insufficient Storage, not 500, and once there is room again the same PUT
// succeeds.
func TestDiskFullAnswers507(t *testing.T) {
	e := newEnv(t)
	db := e.store.DB()
	db.SetMaxOpenConns(1) // max_page_count holds per connection
	var pages int
	if err := db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	big := vcard3("big", "Big Note", "NOTE:"+strings.Repeat("x", 200<<10)+"\r\n")
	resp := e.do(t, http.MethodPut, bookHref+"big.vcf", big, "Content-Type", "text/vcard", "If-None-Match", "*")
	wantStatus(t, resp, http.StatusInsufficientStorage)

	if _, err := db.Exec(`PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	resp = e.do(t, http.MethodPut, bookHref+"big.vcf", big, "Content-Type", "text/vcard", "If-None-Match", "*")
	wantStatus(t, resp, http.StatusCreated)
}
