package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"kith/internal/state"
	"kith/sync/card"
)

// A folder of SMS Backup & Restore exports counts calls and texts on the
// merged cards; a number two contacts share (Bob and Carol's home phone)
// counts for neither, and a text received counts only from someone texted.
func TestPhoneLogInteractions(t *testing.T) {
	cfg, dir := demoSetup(t)
	phone := filepath.Join(dir, "phone")
	os.MkdirAll(phone, 0o700)
	ms := func(day int) int64 { return time.Date(2026, 11, day, 12, 0, 0, 0, time.UTC).UnixMilli() }
	os.WriteFile(filepath.Join(phone, "calls-20261124.xml"), fmt.Appendf(nil, `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<calls count="2">
  <call number="+1 415 555 0100" duration="300" date="%d" type="1" contact_name="Home" />
  <call number="0171 2345678" duration="95" date="%d" type="2" contact_name="Anna" />
</calls>
`, ms(24), ms(23)), 0o600)
	os.WriteFile(filepath.Join(phone, "sms-20261124.xml"), fmt.Appendf(nil, `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<smses count="2">
  <sms address="+447700900123" date="%d" type="2" body="Tea on Friday?" />
  <sms address="+447700900123" date="%d" type="1" body="Gladly" />
</smses>
`, ms(20), ms(24)), 0o600)
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{"calls-20261124.xml", "sms-20261124.xml"} {
		os.Chtimes(filepath.Join(phone, f), old, old)
	}
	cfg.PhoneLogs = []PhoneLogConfig{{Name: "phone", Path: phone}}
	syncAt(t, cfg, fixedNow)

	got := map[string]string{}
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		got[card.Text(c.Value("FN"))] = c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND")
	}
	for name, w := range map[string]string{
		"Anna Schmidt":    "2026-11-23 call",
		"Charles Babbage": "2026-11-24 text",
	} {
		if got[name] != w {
			t.Errorf("%s: last interaction %q, want %q", name, got[name], w)
		}
	}
	for _, name := range []string{"Bob Miller", "Carol Miller"} {
		if got[name] >= "2026-11-24" {
			t.Errorf("%s got the call to the shared home number: %q", name, got[name])
		}
	}

	// kith explain says which source gave the last interaction.
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	if err := Explain(context.Background(), st, "Anna Schmidt", &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`last interaction: call, \d+ days ago \(phone\)`).MatchString(out.String()) {
		t.Errorf("explain does not say the last interaction's source:\n%s", out.String())
	}
	via := ""
	for _, c := range readReport(t, cfg).Contacts {
		if c.Name == "Charles Babbage" && c.LastInteraction != nil {
			via = c.LastInteraction.Via
		}
	}
	if via != "text, yesterday (phone)" {
		t.Errorf("report.json says Charles's last interaction came %q, want from the phone log", via)
	}
}
