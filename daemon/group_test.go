package daemon

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kith/sync/card"
)

var memberRef = regexp.MustCompile(`(?m)^(?:X-ADDRESSBOOKSERVER-)?MEMBER:urn:uuid:(.+?)\r?$`)

// Group cards a phone makes (Apple's form and vCard 4.0's) are never taken
// for people: they stay as written, and when a member merges into another
// card the group names the card that stayed.
func TestGroupCardsPassThroughAndFollowMerges(t *testing.T) {
	cfg, dir := demoSetup(t)
	ph := newPhone(t, cfg, dir)
	syncAt(t, cfg, fixedNow)
	uidOf := func(fn string) string {
		t.Helper()
		for _, body := range ph.cards() {
			if strings.Contains(body, "FN:"+fn+"\r\n") {
				c, err := card.Decode([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				return c.Value("UID")
			}
		}
		t.Fatalf("no card for %s on the phone", fn)
		return ""
	}
	grace, bob := uidOf("Grace Hopper"), uidOf("Bob Miller")
	groups := map[string]string{
		"FAMILY-GROUP.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:FAMILY-GROUP\r\nFN:Family\r\nN:Family;;;;\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n" +
			"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:" + grace + "\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:" + bob + "\r\nEND:VCARD\r\n",
		"TEAM-GROUP.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:TEAM-GROUP\r\nKIND:group\r\nFN:Team\r\nMEMBER:urn:uuid:" + grace + "\r\nEND:VCARD\r\n",
	}
	for name, body := range groups {
		if code, _, _ := ph.do("PUT", name, http.Header{"If-None-Match": {"*"}}, body); code != http.StatusCreated {
			t.Fatalf("PUT %s: %d", name, code)
		}
	}
	before := ph.cards()
	for i := 0; i < 2; i++ {
		syncAt(t, cfg, fixedNow)
	}
	after := ph.cards()
	for name := range groups {
		if after[name] != before[name] {
			t.Errorf("group %s changed by syncs:\n%s\nwas:\n%s", name, after[name], before[name])
		}
	}
	for _, c := range readReport(t, cfg).Contacts {
		if c.Name == "Family" || c.Name == "Team" {
			t.Errorf("the group %s became a contact", c.Name)
		}
	}
	if n := len(cardsOf(vcfFiles(t, filepath.Join(dir, "merged")), "Family")); n != 0 {
		t.Errorf("the group went to the other target as a person (%d cards)", n)
	}

	// Grace gets a second card on the phone: it merges with kith's, which
	// goes; the groups must name the card that stays.
	dup := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:PHONE-GRACE\r\nFN:Grace Hopper\r\nEMAIL:grace@navy.example\r\nBDAY:1906-12-09\r\nEND:VCARD\r\n"
	if code, _, _ := ph.do("PUT", "PHONE-GRACE.vcf", http.Header{"If-None-Match": {"*"}}, dup); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	for i := 1; i <= 3; i++ {
		sum := syncAt(t, cfg, fixedNow)
		if i > 1 && sum.Created+sum.Updated+sum.Removed != 0 {
			t.Errorf("sync %d changed things: %s", i, sum)
		}
	}
	cards := ph.cards()
	uids := map[string]bool{}
	for _, body := range cards {
		if c, err := card.Decode([]byte(body)); err == nil {
			uids[c.Value("UID")] = true
		}
	}
	if uids[grace] || !uids["PHONE-GRACE"] {
		t.Fatalf("kith's card for Grace should have gone for the phone's: UIDs %v", uids)
	}
	for name := range groups {
		body, ok := cards[name]
		if !ok {
			t.Errorf("group %s is gone", name)
			continue
		}
		refs := memberRef.FindAllStringSubmatch(body, -1)
		if len(refs) == 0 {
			t.Errorf("group %s lost its members:\n%s", name, body)
		}
		for _, m := range refs {
			if !uids[m[1]] {
				t.Errorf("group %s names %s, which no card has:\n%s", name, m[1], body)
			}
		}
		if !strings.Contains(body, "urn:uuid:PHONE-GRACE") {
			t.Errorf("group %s does not name Grace's card:\n%s", name, body)
		}
	}
}
