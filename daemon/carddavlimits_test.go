package daemon

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"kith/internal/davtest"
	"kith/internal/state"
)

// TestCardDAVSourceCardLimits: [limits] card_size bounds the cards of a
// CardDAV source as it does a vdir's. A card over it is skipped and named
// (in the summary and a warning, without its content), once for its ETag;
// the other contacts reach the target; a card made small arrives, and one
// made too big again keeps its contact's card on the target as it was
// (no deletion).
func TestCardDAVSourceCardLimits(t *testing.T) {
	for _, s := range davServers {
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t)
			book := srv.MakeBook(t, "friends", "Friends")
			srv.MakeBook(t, "kith", "kith")
			srv.PutCard(t, book+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org"))
			srv.PutCard(t, book+"b.vcf", davtest.Card("b", "Ben Example", "EMAIL:ben@example.org"))
			huge := davtest.Card("big", "Bea Example", "NOTE:"+strings.Repeat("private ", 2<<10)) // 16 KiB
			srv.PutCard(t, book+"big.vcf", huge)

			cfg, _ := accountConfig(t, srv, t.TempDir(), "[limits]\ncard_size = \"4KB\"\n")
			var logs bytes.Buffer
			run := func() *Summary {
				t.Helper()
				logs.Reset()
				return syncWith(t, cfg, func(r *Runner, _ *state.Store) { r.log = slog.New(slog.NewTextHandler(&logs, nil)) })
			}
			named := func(what string, sum *Summary) {
				t.Helper()
				if len(sum.Skipped) != 1 || !strings.Contains(sum.Skipped[0], book+"big.vcf") || !strings.Contains(sum.Skipped[0], "[limits] card_size = 4 KiB") {
					t.Errorf("%s: skipped %q, want big.vcf over card_size", what, sum.Skipped)
				}
				warn := fmt.Sprintf(`level=WARN msg=skipped source=cloud item=%sbig.vcf reason="card: `, book)
				if !strings.Contains(logs.String(), warn) {
					t.Errorf("%s: no warning %s in the log:\n%s", what, warn, logs.String())
				}
				if strings.Contains(logs.String(), "private") {
					t.Errorf("%s: the log shows the card's content", what)
				}
			}
			target := func() string { return strings.Join(targetCards(t, srv, srv.Home+"kith/"), " | ") }

			sum := run()
			if sum.Created != 2 || sum.Records != 2 || len(sum.Errors) > 0 {
				t.Errorf("first sync: %s", sum)
			}
			named("first sync", sum)
			if got := target(); !strings.Contains(got, "Ann Example") || !strings.Contains(got, "Ben Example") || strings.Contains(got, "Bea") {
				t.Errorf("target after the first sync holds %s", got)
			}

			// The same card at the same ETag is not reported again.
			if sum := run(); len(sum.Skipped) > 0 || sum.Created+sum.Updated+sum.Removed != 0 || len(sum.Errors) > 0 {
				t.Errorf("second sync: %s", sum)
			}

			srv.PutCard(t, book+"big.vcf", davtest.Card("big", "Bea Example", "NOTE:short now"))
			if sum := run(); sum.Created != 1 || len(sum.Skipped) > 0 || len(sum.Errors) > 0 {
				t.Errorf("sync after the card was made small: %s", sum)
			}
			if got := target(); !strings.Contains(got, "Bea Example") {
				t.Errorf("target after the card was made small holds %s", got)
			}

			// Too big again: reported, and its contact stays as it was.
			srv.PutCard(t, book+"big.vcf", strings.Replace(huge, "Bea Example", "Bea Changed", 1))
			sum = run()
			named("sync after the card grew again", sum)
			if sum.Records != 3 || sum.Removed+sum.Updated != 0 || len(sum.Errors) > 0 {
				t.Errorf("sync after the card grew again: %s", sum)
			}
			if got := target(); !strings.Contains(got, "Bea Example") || strings.Contains(got, "Bea Changed") {
				t.Errorf("target after the card grew again holds %s", got)
			}
		})
	}
}
