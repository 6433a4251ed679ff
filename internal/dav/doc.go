// Package dav holds the WebDAV client parts that the CardDAV and CalDAV
// sources share and that go-webdav gets wrong or lacks: the login (Basic
// or Digest, credentials only to the configured server), multistatus
// answers read up to a size limit, hrefs and statuses, what a server's
// error body says, a collection's change tags (getctag, sync-token) and
// the sync-collection report of RFC 6578 with its refused and truncated
// answers. It makes no request itself: each source sends them with its own
// client (redirects, limits) through a Doer, and logs in with Auth.Send.
package dav
