// Package mail reads Maildir folders and mbox files and turns the mail the
// user exchanged with people into interactions.
//
// Only headers are read, never bodies, and mailboxes are streamed, so that
// large ones cost little. Mail the user sent (its From is one of the user's
// addresses, or it is in a mailbox marked Sent) is one KindMailSent
// interaction with its recipients. Received mail counts, as KindMailRecv,
// only when its sender is someone the user has written to: the sent mail
// of every mailbox is read first and its recipients collected, whatever its
// date.
//
// Mail that is not personal contact is skipped: mailing lists and bulk or
// automatic mail (List-Id, List-Unsubscribe, Precedence bulk, list or junk,
// Auto-Submitted other than "no", X-Autoreply, X-Autorespond), mail from
// no-reply senders (see noReply), and mail to more than MaxRecipients
// people. A message whose addresses cannot be parsed is skipped with a
// logged reason; the rest of the mailbox is still read.
package mail
