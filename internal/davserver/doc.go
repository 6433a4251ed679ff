// Package davserver is kith's embedded CardDAV server: it serves the merged
// address book to phones and desktop clients, so a user needs no CardDAV
// server of their own.
//
// The book lives in kith's SQLite state database (tables dav_cards and
// dav_meta). HTTP clients and kith's own engine (through Server.Target) read
// and write the same rows under the same rules: every write is conditional on
// the card's ETag, every change bumps the book's revision, and deleted cards
// leave a tombstone so that sync-collection (RFC 6578) can tell a polling
// client what went away. Cards are stored as the client sent them and
// converted to vCard 3.0 on the way out for clients that need it (Apple).
//
// go-webdav's carddav.Handler serves the requests it gets right (OPTIONS,
// PROPPATCH, MKCOL, COPY, MOVE); kith serves the rest itself: PROPFIND (with
// getctag and sync-token), REPORT (addressbook-multiget, addressbook-query
// with an empty filter matching every card, sync-collection), GET, PUT and
// DELETE (If-Match / If-None-Match enforced with 412), because go-webdav
// lacks those properties and reports, and its vCard codec corrupts cards.
//
// Every request but /healthz needs HTTP Basic auth against a users file of
// "user:bcrypt-hash" lines (see SetPassword); failed attempts are slowed down
// per client address and per user name.
package davserver
