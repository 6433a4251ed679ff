// Package sync is kith's engine: it takes the records every source holds,
// clusters the ones that describe the same person, merges each cluster into one
// golden card with a stable UID, and says what a target must change.
//
// It is pure logic over the types defined here: no network, no files, no
// knowledge of where a record came from. Packages under sources/ produce
// Snapshots and apply Changes; the daemon persists the Result in the state
// store. Inside this package the standard library's sync is imported as gosync.
package sync
