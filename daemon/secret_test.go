package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret-file\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "cred"), []byte("s3cret-cred\r\n"), 0o600)
	t.Setenv("KITH_TEST_PW", "s3cret-env")
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	tests := []struct {
		name    string
		d       DAV
		want    string
		wantErr string
	}{
		{"file", DAV{PasswordFile: filepath.Join(dir, "pw")}, "s3cret-file", ""},
		{"env", DAV{PasswordEnv: "KITH_TEST_PW"}, "s3cret-env", ""},
		{"credential", DAV{PasswordCredential: "cred"}, "s3cret-cred", ""},
		{"none", DAV{}, "", ""},
		{"two at once", DAV{PasswordEnv: "KITH_TEST_PW", PasswordFile: "x"}, "", "set only one"},
		{"missing file", DAV{PasswordFile: filepath.Join(dir, "nope")}, "", "password_file:"},
		{"unset env", DAV{PasswordEnv: "KITH_TEST_UNSET"}, "", "KITH_TEST_UNSET is not set"},
		{"credential with a path", DAV{PasswordCredential: "../pw"}, "", "not a credential name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.d.Password()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
