package davtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Vdirsyncer returns a function running the real vdirsyncer in a two-way
// sync ("a wins" on conflicts) between the CardDAV collection at url and a
// local vdir, with a config and HOME of its own; run returns vdirsyncer's
// output and error. The test is skipped when vdirsyncer is missing, except
// under CI=true, where it fails.
func Vdirsyncer(t testing.TB, url, user, password string) (run func(args ...string) (string, error), vdir string) {
	t.Helper()
	bin := need(t, "vdirsyncer")
	home := t.TempDir()
	vdir = filepath.Join(home, "contacts")
	if err := os.MkdirAll(vdir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(home, "config")
	config := `[general]
status_path = "` + filepath.Join(home, "status") + `/"

[pair kith]
a = "local"
b = "server"
collections = null
conflict_resolution = "a wins"

[storage local]
type = "filesystem"
path = "` + vdir + `/"
fileext = ".vcf"

[storage server]
type = "carddav"
url = "` + url + `"
username = "` + user + `"
password = "` + password + `"
`
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"-c", conf, "--verbosity", "WARNING"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
		cmd.Stdin = strings.NewReader("y\ny\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}, vdir
}
