package davserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davtest"
)

// vdirsyncer returns a function running the real vdirsyncer between the
// test server's book and a local vdir, failing the test when it fails.
func vdirsyncer(t *testing.T, e *testEnv) (run func(args ...string) string, vdir string) {
	t.Helper()
	sync, vdir := davtest.Vdirsyncer(t, e.http.URL+bookHref, testUser, testPassword)
	return func(args ...string) string {
		t.Helper()
		out, err := sync(args...)
		if err != nil {
			t.Fatalf("vdirsyncer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}, vdir
}

// editNote adds a note to the card file as khard does: the whole file is
// rewritten through a temporary file and a rename.
func editNote(t *testing.T, path, note string) {
	t.Helper()
	text := readFile(t, path)
	if !strings.Contains(text, "END:VCARD") {
		t.Fatalf("%s is not a vCard:\n%s", path, text)
	}
	text = strings.Replace(text, "END:VCARD", "NOTE:"+note+"\r\nEND:VCARD", 1)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestVdirsyncerTwoWay: vdirsyncer brings every card to a local vdir; a
// note edited there reaches the server with a new ETag; a card created
// there is uploaded; a card the engine deletes disappears locally; and a
// sync with nothing to do writes nothing.
func TestVdirsyncerTwoWay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	etags := seed(t, e, map[string]string{
		"ada.vcf": vcard3("ada", "Ada Lovelace", "EMAIL:ada@example.org\r\n"),
		"bob.vcf": vcard3("bob", "Bob Miller", "TEL:+44 20 7946 0000\r\n"),
		"zoe.vcf": vcard3("zoe", "Zoë Ünal", "PHOTO;ENCODING=b;TYPE=JPEG:"+jpegB64+"\r\n"),
	})
	run, vdir := vdirsyncer(t, e)
	run("discover")
	run("sync")

	files, err := filepath.Glob(filepath.Join(vdir, "*.vcf"))
	if err != nil || len(files) != 3 {
		t.Fatalf("vdir after the first sync: %v, %v", files, err)
	}
	zoe := readFile(t, filepath.Join(vdir, "zoe.vcf"))
	if !strings.Contains(zoe, "FN:Zoë Ünal") || !strings.Contains(strings.ReplaceAll(zoe, "\r\n ", ""), jpegB64) {
		t.Fatalf("zoe in the vdir:\n%s", zoe)
	}

	token := syncToken(t, e)
	editNote(t, filepath.Join(vdir, "ada.vcf"), `met at the Analytical Society\, 1833`)
	if err := os.WriteFile(filepath.Join(vdir, "carl.vcf"), []byte(vcard3("carl", "Carl Local", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	run("sync")

	tg := e.srv.Target("server")
	got, err := tg.Get(ctx, []string{"ada.vcf", "carl.vcf"})
	if err != nil {
		t.Fatal(err)
	}
	if note := got["ada.vcf"].Card.Value("NOTE"); note != `met at the Analytical Society\, 1833` {
		t.Fatalf("ada's note on the server: %q", note)
	}
	if got["ada.vcf"].ETag == etags["ada.vcf"] {
		t.Fatal("ada's ETag did not change with the edit")
	}
	if got["carl.vcf"].Card.Value("FN") != "Carl Local" {
		t.Fatalf("carl was not uploaded: %v", got)
	}
	if ch := changesSince(t, e, token); len(ch) != 2 || ch["ada.vcf"] != "200" || ch["carl.vcf"] != "200" {
		t.Fatalf("changes a poller sees: %v", ch)
	}

	// Nothing to do: nothing written on either side.
	token = syncToken(t, e)
	before := readFile(t, filepath.Join(vdir, "bob.vcf"))
	run("sync")
	if ch := changesSince(t, e, token); len(ch) != 0 {
		t.Fatalf("a sync with nothing to do changed %v", ch)
	}

	// The engine removes bob; vdirsyncer removes the file.
	list, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Delete(ctx, "bob.vcf", list["bob.vcf"]); err != nil {
		t.Fatal(err)
	}
	run("sync")
	if _, err := os.Stat(filepath.Join(vdir, "bob.vcf")); !os.IsNotExist(err) {
		t.Fatalf("bob.vcf still in the vdir (%v); it held:\n%s", err, before)
	}
}
