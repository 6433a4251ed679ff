package davserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeVdirsyncer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seed(t, e, map[string]string{
		"ada.vcf": vcard3("ada", "Ada Lovelace", "EMAIL:ada@example.org\r\n"),
		"bob.vcf": vcard3("bob", "Bob Miller", "TEL:+44 20 7946 0000\r\n"),
	})
	run, vdir := vdirsyncer(t, e)
	run("discover")
	run("sync")
	token := syncToken(t, e)
	// local delete
	os.Remove(filepath.Join(vdir, "bob.vcf"))
	// local 4.0 card with odd UID
	v4 := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:Zoë Ünal@example\r\nFN:Zoë Ünal\r\nNOTE:line one\\nline two\r\nitem1.EMAIL:z@example.org\r\nitem1.X-ABLabel:custom\r\nPHOTO:data:image/jpeg;base64," + strings.Repeat("QUJD", 200000) + "\r\nEND:VCARD\r\n"
	os.WriteFile(filepath.Join(vdir, "zoe.vcf"), []byte(v4), 0o600)
	out := run("sync")
	t.Logf("sync out: %s", out)
	ch := changesSince(t, e, token)
	t.Logf("changes: %v", ch)
	list, _ := e.srv.Target("x").List(ctx)
	t.Logf("list: %v", list)
	files, _ := filepath.Glob(filepath.Join(vdir, "*"))
	t.Logf("files: %v", files)
	token = syncToken(t, e)
	run("sync")
	t.Logf("changes after 2nd: %v", changesSince(t, e, token))
	files2, _ := filepath.Glob(filepath.Join(vdir, "*"))
	t.Logf("files: %v", files2)
	for href := range list {
		got, _ := e.srv.Target("x").Get(ctx, []string{href})
		if strings.Contains(href, "ada") { continue }
		c := got[href].Card
		t.Logf("%s: UID=%q NOTE=%q photo=%d", href, c.Value("UID"), c.Value("NOTE"), len(c.Value("PHOTO")))
	}
}
