package davserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	gosync "sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kith/internal/atomicfile"
)

// users is the users file, re-read when it changes, and a cache of
// credentials that passed bcrypt (keyed by an HMAC under a per-process key,
// so the cache holds no password) so that a client polling every minute
// does not cost a bcrypt each time.
type users struct {
	path string
	log  *slog.Logger

	mu        gosync.Mutex
	modTime   time.Time
	size      int64
	loaded    bool
	hashes    map[string][]byte // user → bcrypt hash
	ok        map[[32]byte]string
	key       [32]byte
	dummy     []byte // a bcrypt hash to compare against for unknown users
	dummyCost int
	warned    bool
}

// maxCachedLogins bounds the cache of good credentials.
const maxCachedLogins = 256

func newUsers(path string, log *slog.Logger) (*users, error) {
	u := &users{path: path, log: log, ok: map[[32]byte]string{}}
	if _, err := rand.Read(u.key[:]); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return u, nil
}

// refresh re-reads the users file when its size or time changed. A missing
// or broken file leaves no user able to log in. Called with mu held.
func (u *users) refresh() {
	fi, err := os.Stat(u.path)
	if err != nil {
		if !u.warned {
			u.log.Error("users file unreadable: no one can log in; run kith passwd USER", "path", u.path, "err", err)
			u.warned = true
		}
		u.hashes, u.loaded = nil, false
		clear(u.ok)
		return
	}
	if u.loaded && fi.ModTime().Equal(u.modTime) && fi.Size() == u.size {
		return
	}
	hashes, err := readUsers(u.path)
	if err != nil {
		u.log.Error("users file unreadable: no one can log in", "path", u.path, "err", err)
		u.warned = true
		hashes = nil
	} else {
		u.warned = false
	}
	u.hashes, u.modTime, u.size, u.loaded = hashes, fi.ModTime(), fi.Size(), true
	clear(u.ok)
	u.makeDummy()
}

// makeDummy makes the hash unknown users are checked against, at the cost
// of the real ones so that an unknown user takes as long as a known one.
// Called with mu held.
func (u *users) makeDummy() {
	cost := bcrypt.DefaultCost
	for _, h := range u.hashes {
		if c, err := bcrypt.Cost(h); err == nil {
			cost = c
			break
		}
	}
	if u.dummy != nil && u.dummyCost == cost {
		return
	}
	dummy, err := bcrypt.GenerateFromPassword(u.key[:16], cost)
	if err != nil {
		return // the key is 16 bytes and cost was read from a hash: cannot happen
	}
	u.dummy, u.dummyCost = dummy, cost
}

// check reports whether user and password are a valid login. It takes the
// same time whether or not the user exists.
func (u *users) check(user, password string) bool {
	mac := hmac.New(sha256.New, u.key[:])
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var key [32]byte
	copy(key[:], mac.Sum(nil))

	u.mu.Lock()
	u.refresh()
	if cached, ok := u.ok[key]; ok && cached == user {
		u.mu.Unlock()
		return true
	}
	var hash []byte
	found := 0
	for name, h := range u.hashes {
		if subtle.ConstantTimeCompare([]byte(name), []byte(user)) == 1 {
			hash, found = h, 1
		}
	}
	if found == 0 {
		if u.dummy == nil {
			u.makeDummy()
		}
		hash = u.dummy
	}
	u.mu.Unlock()

	good := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && found == 1
	if good {
		u.mu.Lock()
		if len(u.ok) >= maxCachedLogins {
			clear(u.ok)
		}
		u.ok[key] = user
		u.mu.Unlock()
	}
	return good
}

// known reports whether user has a line in the users file.
func (u *users) known(user string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.hashes[user]
	return ok
}

// readUsers parses a users file: "user:bcrypt-hash" a line; blank lines
// and lines starting with '#' are skipped.
func readUsers(path string) (map[string][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || checkUserName(name) != nil {
			return nil, fmt.Errorf("line %d: want user:bcrypt-hash", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("line %d: user %q: not a bcrypt hash", n, name)
		}
		out[name] = []byte(hash)
	}
	return out, sc.Err()
}

// checkUserName accepts a name that can stand in a users file line and in
// a URL path segment.
func checkUserName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if len(name) > 64 {
		return fmt.Errorf("user name %q: longer than 64 bytes", name)
	}
	for _, r := range name {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-@+", r)
		if !ok {
			return fmt.Errorf("user name %q: only letters, digits and . _ - @ + are allowed", name)
		}
	}
	if strings.HasPrefix(name, ".") {
		return fmt.Errorf("user name %q: must not start with a dot", name)
	}
	return nil
}

// SetPassword sets user's password in the users file at path, creating the
// file (mode 0600) when it does not exist: the user's line is replaced, or
// appended when the user is new; other lines are kept as they are. The
// file is replaced atomically. The password is stored as a bcrypt hash.
func SetPassword(path, user string, password []byte) error {
	return setPassword(path, user, password, bcrypt.DefaultCost)
}

func setPassword(path, user string, password []byte, cost int) error {
	if err := checkUserName(user); err != nil {
		return fmt.Errorf("users file %s: %w", path, err)
	}
	if len(password) == 0 {
		return fmt.Errorf("users file %s: user %q: empty password", path, user)
	}
	if len(password) > 72 {
		return fmt.Errorf("users file %s: user %q: password longer than 72 bytes (bcrypt's limit)", path, user)
	}
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return fmt.Errorf("users file %s: user %q: hashing password: %w", path, user, err)
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("users file %s: %w", path, err)
	}
	var out bytes.Buffer
	replaced := false
	for _, line := range strings.SplitAfter(string(old), "\n") {
		if line == "" {
			continue
		}
		name, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && name == user {
			if !replaced {
				fmt.Fprintf(&out, "%s:%s\n", user, hash)
				replaced = true
			}
			continue
		}
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteByte('\n')
		}
	}
	if !replaced {
		fmt.Fprintf(&out, "%s:%s\n", user, hash)
	}
	if err := atomicfile.Write(path, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}

// limiter slows down failed logins: after a few failures from one client
// address or for one user name, further attempts are refused (429) for a
// time that doubles with each failure, up to maxBackoff. Its memory is
// bounded by maxTracked keys.
type limiter struct {
	now func() time.Time

	mu gosync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

const (
	freeFailures = 5
	maxBackoff   = time.Minute
	forgetAfter  = 15 * time.Minute
	maxTracked   = 10000
)

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, m: map[string]*failures{}}
}

// wait returns how long the caller must wait before keys may try again; 0
// when they may now.
func (l *limiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var d time.Duration
	for _, k := range keys {
		if f := l.m[k]; f != nil && f.until.After(now) {
			d = max(d, f.until.Sub(now))
		}
	}
	return d
}

// fail records a failed login for keys.
func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		f := l.m[k]
		if f == nil {
			if len(l.m) >= maxTracked {
				l.evict(now)
			}
			f = &failures{}
			l.m[k] = f
		}
		if now.Sub(f.last) > forgetAfter {
			f.n = 0
		}
		f.n++
		f.last = now
		if f.n > freeFailures {
			f.until = now.Add(min(maxBackoff, time.Second<<min(f.n-freeFailures-1, 10)))
		}
	}
}

// succeed forgets the failures of keys.
func (l *limiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.m, k)
	}
}

// evict makes room: stale entries go first, else arbitrary ones.
func (l *limiter) evict(now time.Time) {
	for k, f := range l.m {
		if now.Sub(f.last) > forgetAfter {
			delete(l.m, k)
		}
	}
	// Make room for a tenth more at once, so that a flood of new keys
	// does not walk the whole map on every failure.
	for k := range l.m {
		if len(l.m) < maxTracked-maxTracked/10 {
			break
		}
		delete(l.m, k)
	}
}

type ctxKey struct{}

// userFrom returns the authenticated user of a request's context.
func userFrom(ctx context.Context) string {
	u, _ := ctx.Value(ctxKey{}).(string)
	return u
}
