// Package state keeps kith's memory between runs in an embedded SQLite
// database (modernc.org/sqlite, no cgo) in the state folder: every source
// record seen, every merged contact with its stable UID and members, what
// was written to each target, the sources' sync cursors, and the user's
// split/join decisions, interactions and report history.
//
// The schema is versioned (PRAGMA user_version) and migrated forward on
// open. A sync is saved in one transaction: a crash part-way leaves the
// previous consistent state.
package state
