// Package scans reads a folder of business-card scanner exports as a kith
// source: vCard files (one or many cards a file, vCard 2.1, 3.0 or 4.0, as
// scanner apps write them) and CSV exports (Google Contacts, Outlook and the
// column sets of common scanner apps such as CamCard and ABBYY Business Card
// Reader).
//
// Every record is marked Scanned: its first sighting is a first meeting, and
// its text may carry OCR slips. CSV rows become vCard 3.0 cards in kith's
// raw-value convention (see package kith/sync/card).
package scans
