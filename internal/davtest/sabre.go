package davtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// SabreDirEnv names the environment variable that may point at the
// bundled sabre/dav folder; by default it is shared/servers/sabre in a
// folder above the test's (../shared/servers/sabre from the repository),
// else the repository's own copy in internal/davtest/testdata/sabre.
const SabreDirEnv = "KITH_SABRE_DIR"

// StartSabre starts sabre/dav 4.7.1, the CardDAV engine of Nextcloud,
// ownCloud and Baikal, from the bundled copy, with user "kith" logging in
// with auth ("basic", or "digest" as Baikal does by default). It has no
// address book until MakeBook; the home set is /addressbooks/kith/. It is
// stopped when the test ends. Without PHP or the bundle the test is skipped
// (failed under CI=true).
func StartSabre(t testing.TB, auth string) *Server {
	t.Helper()
	php := need(t, "php")
	root := sabreDir(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db.sqlite")
	s := &Server{Kind: "sabre", Username: "kith", Password: "s3cret pw", Home: "/addressbooks/kith/", Dir: dir, Auth: auth,
		env: []string{"SABRE_DB=" + db, "SABRE_AUTH=" + auth, "PHP_CLI_SERVER_WORKERS=4"}}
	if out, err := exec.Command(php, filepath.Join(root, "init.php"), db, s.Username, s.Password).CombinedOutput(); err != nil {
		t.Fatalf("sabre/dav init.php: %v\n%s", err, out)
	}
	start(t, s, php, func(port string) []string {
		return []string{"-S", "127.0.0.1:" + port, filepath.Join(root, "server.php")}
	})
	return s
}

// StartSabreCalDAV starts sabre/dav 4.7.1 as a CalDAV server (the calendar
// engine of Nextcloud and Baikal; testdata/sabrecal/server.php on the same
// bundle as StartSabre), with user "kith" logging in with auth ("basic" or
// "digest", Baikal's default). It has no calendar until MakeCalendar; the
// calendar home set is /calendars/kith/. It is stopped when the test ends,
// and skipped (failed under CI=true) like StartSabre.
func StartSabreCalDAV(t testing.TB, auth string) *Server {
	t.Helper()
	php := need(t, "php")
	root := sabreDir(t)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "sabrecal", "server.php")
	dir := t.TempDir()
	db := filepath.Join(dir, "db.sqlite")
	s := &Server{Kind: "sabre", Username: "kith", Password: "s3cret pw", Home: "/calendars/kith/", Dir: dir, Auth: auth,
		env: []string{"SABRE_ROOT=" + root, "SABRE_DB=" + db, "SABRE_AUTH=" + auth, "PHP_CLI_SERVER_WORKERS=4"}}
	if out, err := exec.Command(php, filepath.Join(root, "init.php"), db, s.Username, s.Password).CombinedOutput(); err != nil {
		t.Fatalf("sabre/dav init.php: %v\n%s", err, out)
	}
	cmd := exec.Command(php, script, "init", db)
	cmd.Env = append(os.Environ(), s.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sabre/dav CalDAV init: %v\n%s", err, out)
	}
	start(t, s, php, func(port string) []string {
		return []string{"-S", "127.0.0.1:" + port, script}
	})
	return s
}

// sabreDir finds the bundled sabre/dav folder, or skips (fails under
// CI=true) t.
func sabreDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(SabreDirEnv); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// shared/ lies beside the repository (or beside the folder of its
	// worktrees).
	for d := filepath.Dir(wd); ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "servers", "sabre")
		if _, err := os.Stat(filepath.Join(p, "server.php")); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	// The repository's own copy (testdata/sabre beside this file), so a
	// clean clone on a machine without shared/ still runs these tests.
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "testdata", "sabre")
		if _, err := os.Stat(filepath.Join(p, "server.php")); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the bundled sabre/dav (shared/servers/sabre beside the repository, internal/davtest/testdata/sabre, or $%s) not found and CI=true", SabreDirEnv)
	}
	t.Skipf("the bundled sabre/dav (shared/servers/sabre beside the repository, internal/davtest/testdata/sabre, or $%s) not found", SabreDirEnv)
	return ""
}
