// Package carddav reads address books from CardDAV servers as kith sources
// and keeps kith's merged set in a CardDAV collection as a kith target.
//
// Source finds its address books from a collection URL, or from a server URL
// by discovery (/.well-known/carddav with redirects followed by hand, since
// Go's http.Client turns PROPFIND into GET; current-user-principal;
// addressbook-home-set, keeping its host when it names another one). It
// reads incrementally: with sync-collection (RFC 6578) where the server
// offers it, otherwise with getctag and an ETag listing, and fetches only
// changed cards, with addressbook-multiget in batches and single GETs for a
// batch that fails. Its cursor is compact JSON holding per book the sync
// token or the ctag and ETag digests.
//
// Nothing a server sends is read without bound: a multistatus answer stops
// at Options.MaxAnswer (a multiget batch over it is read again card by
// card), a GET at the card size of Options.Card. A card over Options.Card
// (its size as sent, or its properties) is a Problem for the Source, once
// for its ETag, so the engine keeps its last good version; a Target's Get
// fails for it.
//
// Target writes to one collection, created with an extended MKCOL when
// missing. Every write is conditional: If-None-Match: * to create, If-Match
// to update or delete; a 412 is ksync.ErrConflict.
//
// The protocol requests are made here with net/http and encoding/xml rather
// than through go-webdav's client, whose calls decode cards with go-vcard's
// decoder (which corrupts them), drop ETag quotes, fail a whole multiget for
// one bad entry, send no conditional headers and keep only the path of a
// home set. go-webdav's CardDAV client serves in the tests of kith's own
// server (internal/davserver), as a client Go programs use.
package carddav
