package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Password returns the password the DAV keys point to: the content of
// password_file, the value of the environment variable password_env, or the
// systemd credential $CREDENTIALS_DIRECTORY/<password_credential>, with one
// trailing newline removed. With none set it returns "". Errors name the
// key and never hold the secret.
func (d DAV) Password() (string, error) {
	set := 0
	for _, v := range []string{d.PasswordFile, d.PasswordEnv, d.PasswordCredential} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return "", errors.New("password_file, password_env and password_credential: set only one")
	}
	trim := func(s string) string { return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r") }
	switch {
	case d.PasswordFile != "":
		b, err := os.ReadFile(d.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		return trim(string(b)), nil
	case d.PasswordEnv != "":
		v, ok := os.LookupEnv(d.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("password_env: environment variable %s is not set", d.PasswordEnv)
		}
		return trim(v), nil
	case d.PasswordCredential != "":
		name := d.PasswordCredential
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return "", fmt.Errorf("password_credential: %q is not a credential name", name)
		}
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			return "", errors.New("password_credential: $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the systemd unit)")
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("password_credential: %w", err)
		}
		return trim(string(b)), nil
	}
	return "", nil
}
