// Package assess ties interactions to contacts and judges every
// relationship: it gathers each contact's real interactions (dated note
// lines, card scans, calendar events and mail matched by address), runs the
// decay model, sets kith's own properties on the cards (X-KITH-LAST-INTERACTION,
// X-KITH-LAST-INTERACTION-KIND, X-KITH-STATE and, when asked, a kith-<state>
// category), and fills the report.
package assess
