// Package phonelog reads the exports of Android's "SMS Backup & Restore"
// app (calls-*.xml, sms-*.xml) from a folder, which users sync to a home
// server with Syncthing or a cloud folder, and turns calls and text
// messages into interactions.
//
// A call counts when it was answered or made and lasted (duration > 0):
// missed, rejected and blocked calls and voicemail do not. A text the user
// sent counts; a text received counts only from a number the user has
// texted (whatever the date), as mail received counts only from people
// written to. Numbers are normalised to E.164 with the configured region,
// and matched to contacts like mail addresses (a number shared by several
// contacts matches none). The same call or text in overlapping exports
// counts once.
//
// The folder is read incrementally: only new or changed export files are
// read (by modification time, size and inode), and what each gave is kept
// in the item store. The XML is streamed by a small scanner that keeps
// only the attributes it needs, so message bodies and MMS pictures cost no
// memory; only regular files are opened, and files larger than
// MaxFileSize are refused.
package phonelog
