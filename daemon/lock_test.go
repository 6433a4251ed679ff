package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	held, err := AcquireLock(ctx, dir, "daemon", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(ctx, dir, "once", 200*time.Millisecond)
	want := fmt.Sprintf("the kith daemon (pid %d) holds %s; stop it or wait", os.Getpid(), dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second lock: %v, want ErrLocked saying %q", err, want)
	}
	if got := lockHolder(dir); !strings.Contains(got, "kith daemon") {
		t.Errorf("lockHolder = %q, want the daemon named", got)
	}
	held.Release()
	again, err := AcquireLock(ctx, dir, "once", 0)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	defer again.Release()
	b, _ := os.ReadFile(filepath.Join(dir, LockFileName))
	if want := fmt.Sprintf("%d once\n", os.Getpid()); string(b) != want {
		t.Errorf("lock file holds %q, want %q", b, want)
	}
}

func TestLockWaitsForTheHolder(t *testing.T) {
	dir := t.TempDir()
	held, err := AcquireLock(context.Background(), dir, "daemon", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		l, err := AcquireLock(context.Background(), dir, "once", time.Minute)
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	held.Release()
	if err := <-got; err != nil {
		t.Fatalf("waiting lock: %v", err)
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	dir := t.TempDir()
	held, err := AcquireLock(context.Background(), dir, "daemon", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AcquireLock(ctx, dir, "once", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
