// Package report builds kith's machine-readable view of the merged set
// (report.json) and renders it for people. It writes to io.Writers; the daemon
// puts the bytes on disk.
package report
