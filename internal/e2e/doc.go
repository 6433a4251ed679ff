// Package e2e holds end-to-end tests that build the kith binary and run it
// as a real process: the daemon with its folder watching, signals, lock and
// systemd notify messages, and --once and check next to it. It has no code
// of its own outside the tests.
package e2e
