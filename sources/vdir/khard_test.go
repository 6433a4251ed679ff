package vdir

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// khard returns a function running the real khard on an address book in dir,
// with a config of its own so that the user's is never read. The test is
// skipped when khard is not installed, except in CI, where it must run.
func khard(t *testing.T, dir string) func(stdin string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("khard")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("khard not installed (Debian package khard): %v", err)
		}
		t.Skipf("khard not installed (Debian package khard): %v", err)
	}
	home := t.TempDir()
	conf := filepath.Join(home, ".config", "khard", "khard.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	config := "[addressbooks]\n[[kith]]\npath = " + dir + "\n[general]\ndefault_action = list\neditor = /bin/false\nmerge_editor = /bin/false\n[contact table]\ndisplay = formatted_name\n[vcard]\npreferred_version = 3.0\n"
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"-c", conf}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "KHARD_CONFIG="+conf, "EDITOR=/bin/false", "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("khard %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// TestKhardReadsTarget writes cards with the target and checks that khard
// shows the names, numbers, addresses and notes a user put in.
func TestKhardReadsTarget(t *testing.T) {
	tg, dir := newTarget(t)
	run := khard(t, dir)

	cards := map[string]vcard.Card{
		"zoe.vcf": person("zoe", "Zoë Ünal",
			[2]string{"N", "Ünal;Zoë;;;"},
			[2]string{"NOTE", `line one\nline two\, with comma\; and semi-colon \\ backslash`},
			[2]string{"ORG", `Example\, Inc.;R&D`}),
		"dmitri.vcf": person("dmitri", "Дмитрий Иванов", [2]string{"N", "Иванов;Дмитрий;;;"}),
		"yamada.vcf": person("yamada", "山田 太郎", [2]string{"N", "山田;太郎;;;"}),
	}
	cards["zoe.vcf"].Add(vcard.FieldTelephone, &vcard.Field{Value: "+44 7700 900123", Params: vcard.Params{"TYPE": {"CELL"}}})
	cards["zoe.vcf"].Add(vcard.FieldEmail, &vcard.Field{Value: "zoe@example.org", Params: vcard.Params{"TYPE": {"WORK"}}})
	cards["dmitri.vcf"].Add(vcard.FieldEmail, &vcard.Field{Value: "dima@example.ru", Params: vcard.Params{"TYPE": {"HOME"}}})
	cards["dmitri.vcf"].Add(vcard.FieldTelephone, &vcard.Field{Value: "+7 495 123-45-67", Params: vcard.Params{"TYPE": {"WORK"}}})
	for href, c := range cards {
		mustPut(t, tg, href, c, "")
	}

	list := run("", "list", "--parsable")
	for _, want := range []string{"zoe\tZoë Ünal\tkith", "dmitri\tДмитрий Иванов\tkith", "yamada\t山田 太郎\tkith"} {
		if !strings.Contains(list, want) {
			t.Errorf("khard list lacks %q:\n%s", want, list)
		}
	}
	emails := run("", "email", "--parsable")
	for _, want := range []string{"zoe@example.org\tZoë Ünal\tWORK", "dima@example.ru\tДмитрий Иванов\tHOME"} {
		if !strings.Contains(emails, want) {
			t.Errorf("khard email lacks %q:\n%s", want, emails)
		}
	}
	phones := run("", "phone", "--parsable")
	for _, want := range []string{"+44 7700 900123\tZoë Ünal\tCELL", "+7 495 123-45-67\tДмитрий Иванов\tWORK"} {
		if !strings.Contains(phones, want) {
			t.Errorf("khard phone lacks %q:\n%s", want, phones)
		}
	}
	show := run("", "show", "--format", "yaml", "uid:zoe")
	for _, want := range []string{
		"First name: Zoë", "Last name: Ünal",
		`Note: "line one\nline two, with comma; and semi-colon \\ backslash"`,
		"Example, Inc.", "R&D",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("khard show lacks %q:\n%s", want, show)
		}
	}
}

// TestKhardEditIsNotOverwritten edits a card with khard after kith listed the
// folder: kith's write must fail with ErrConflict and the edit must be read
// back by the source, dated by the REV khard wrote.
func TestKhardEditIsNotOverwritten(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	run := khard(t, dir)
	mustPut(t, tg, "zoe.vcf", person("zoe", "Zoë Ünal", [2]string{"N", "Ünal;Zoë;;;"}), "")
	listed, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}

	yaml := run("", "show", "--format", "yaml", "uid:zoe")
	yaml = strings.Replace(yaml, "\nTitle:\n", "\nTitle: Head of Ünits\n", 1)
	edited := filepath.Join(t.TempDir(), "edit.yaml")
	if err := os.WriteFile(edited, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run("y\n", "edit", "-i", edited, "uid:zoe")

	_, err = tg.Put(ctx, "zoe.vcf", person("zoe", "Zoë Ünal", [2]string{"NOTE", "from kith"}), listed["zoe.vcf"])
	if !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("Put after khard edited the card: error = %v, want ErrConflict", err)
	}

	src, err := NewSource("khard", dir, card.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Read(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Records) != 1 || len(snap.Problems) != 0 {
		t.Fatalf("Read after khard edit = %d records, problems %v; want 1 record", len(snap.Records), snap.Problems)
	}
	r := snap.Records[0]
	if got := r.Card.Value(vcard.FieldTitle); got != "Head of Ünits" {
		t.Errorf("TITLE = %q, want khard's edit", got)
	}
	if r.Card.Value(vcard.FieldRevision) == "" || !r.Seen.Equal(card.Revision(r.Card)) {
		t.Errorf("Seen = %v, want the REV khard wrote (%q)", r.Seen, r.Card.Value(vcard.FieldRevision))
	}
}
