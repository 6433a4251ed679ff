// Command benchgen supports scripts/bench-carddav.sh: it writes generated
// vCards into a folder (a Radicale collection's storage folder, which
// Radicale reads as it is) and times reads of CardDAV address books with
// kith's carddav source.
//
//	benchgen gen -dir DIR -n 2000 -seed 1
//	benchgen read -url URL -user U -password-env VAR -cursor FILE
//	benchgen floor -user U -password-env VAR URL...
//
// read prints one line: seconds, records, deleted, problems, full. It keeps
// the source's cursor in FILE between runs (atomically replaced).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kith/internal/atomicfile"
	"kith/sources/carddav"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchgen gen|read|floor [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

var (
	given  = []string{"Ada", "Bob", "Carol", "Dmitri", "Eve", "Fatima", "Günter", "Hiro", "Ines", "Jamal", "Kirsten", "Li", "Maria", "Nils", "Olga", "Priya"}
	family = []string{"Lovelace", "Miller", "Schmidt", "Kierkegaard", "Nakamura", "Okafor", "Silva", "Novak", "Dubois", "Rossi", "Haddad", "Larsen"}
)

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	dir := fs.String("dir", "", "folder to write the .vcf files to")
	n := fs.Int("n", 2000, "number of cards")
	seed := fs.Uint64("seed", 1, "random seed")
	prefix := fs.String("prefix", "card", "UID prefix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(*seed, 7))
	for i := range *n {
		g, f := given[r.IntN(len(given))], family[r.IntN(len(family))]
		uid := fmt.Sprintf("%s-%05d", *prefix, i)
		lines := []string{
			"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid,
			fmt.Sprintf("FN:%s %s %d", g, f, i), fmt.Sprintf("N:%s;%s;;;", f, g),
			fmt.Sprintf("EMAIL;TYPE=INTERNET:%s.%s.%d@example.org", strings.ToLower(g), strings.ToLower(f), i),
			fmt.Sprintf("TEL;TYPE=CELL:+44 7700 9%05d", r.IntN(100000)),
			fmt.Sprintf("ADR;TYPE=HOME:;;%d High Street;Town %d;;AB%d 1CD;UK", r.IntN(200), r.IntN(50), r.IntN(99)),
			"ORG:Example Ltd", "NOTE:Met at a conference\\, talked about gardens.",
			fmt.Sprintf("REV:2026%02d%02dT120000Z", 1+r.IntN(12), 1+r.IntN(28)),
			"END:VCARD", "",
		}
		data := []byte(strings.Join(lines, "\r\n"))
		if err := atomicfile.Write(filepath.Join(*dir, uid+".vcf"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ContinueOnError)
	u := fs.String("url", "", "server or collection URL")
	user := fs.String("user", "", "username")
	pwEnv := fs.String("password-env", "", "environment variable holding the password")
	cursorFile := fs.String("cursor", "", "file keeping the cursor between runs")
	parallel := fs.Int("parallel", 0, "MaxParallel (0: default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pw := ""
	if *pwEnv != "" {
		pw = os.Getenv(*pwEnv)
	}
	src, err := carddav.NewSource(carddav.Options{Name: "bench", URL: *u, Username: *user, Password: pw, MaxParallel: *parallel,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	cursor, err := os.ReadFile(*cursorFile)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	start := time.Now()
	snap, err := src.Read(context.Background(), string(cursor))
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(*cursorFile, []byte(snap.Cursor), 0o600); err != nil {
		return err
	}
	fmt.Printf("%.3f %d %d %d %v\n", elapsed.Seconds(), len(snap.Records), len(snap.Deleted), len(snap.Problems), snap.Full)
	return nil
}
