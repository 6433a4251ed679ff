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
// converted on the way out for clients that need another version: vCard 3.0
// for Apple, 4.0 for a client that asks for it (Accept or address-data);
// each representation has an ETag of its own, and each names the card in
// If-Match.
//
// kith answers every method itself (go-webdav's carddav.Handler lacks
// getctag, sync-token, sync-collection and PROPPATCH, and its vCard codec
// corrupts cards): OPTIONS, PROPFIND (with getctag and sync-token), REPORT
// (addressbook-multiget, addressbook-query with an empty filter matching
// every card, sync-collection), GET, HEAD, PUT and DELETE (If-Match /
// If-None-Match enforced with 412), PROPPATCH (the book's displayname; every
// other property is refused with 403) and MKCOL (403: kith serves one
// book). Every write runs in one IMMEDIATE transaction, so that a client's
// write waits for a sync saving its state instead of failing; a full disk
// answers 507. XML bodies are parsed under limits of depth, size and
// property count.
//
// Every request but /healthz needs HTTP Basic auth against a users file of
// "user:bcrypt-hash" lines (see SetPassword); failed attempts are slowed down
// per client address and per user name.
package davserver
