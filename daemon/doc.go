// Package daemon runs kith: it loads and validates the configuration, builds
// the sources and targets it names, runs one sync (Once) or keeps syncing on
// a schedule and on folder changes, and writes the state and the report.
package daemon
