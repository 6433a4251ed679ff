// Package calendar reads calendars (.ics files and folders, CalDAV
// collections) and turns the past events the user attended into
// interactions with the other attendees.
//
// An event counts when it started before now, the user organised it or is
// an attendee who did not decline (an event without ORGANIZER is taken as
// the user's own), it was not cancelled, at most MaxAttendees people were
// invited (the user included; rooms, resources and non-participants
// aside; an invited group, CUTYPE=GROUP, makes it a crowd) and someone
// besides the user, with an email address, took part. People counts the
// others who did not decline; Who holds their addresses. Recurring events are expanded (RRULE with
// RDATE, EXDATE and RECURRENCE-ID overrides) and every occurrence is one
// interaction whose Ref is the event's UID and the occurrence's original
// date, so that the same occurrence found twice counts once.
//
// Times with a TZID are read in that zone; an unknown TZID (a Windows or
// Outlook name, a Mozilla path) is mapped to an IANA zone where it can be,
// else the calendar's own VTIMEZONE offset is used; floating times are read
// in Options.Location. The interaction's day is the event's start day in
// Options.Location.
//
// go-ical's decoder panics on some malformed lines (a content line ending
// in "ATTENDEE;CN="); such a panic is turned into an error for that file or
// query, never allowed to stop the daemon.
package calendar
