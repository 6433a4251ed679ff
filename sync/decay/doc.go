// Package decay judges how each relationship is kept up: from a contact's
// real interactions it infers or reads the contact's circle, says whether the
// contact needs a follow-up or is healthy, due, fading, cold or dormant, gives
// the reason in one line, and picks the few actions worth doing this week.
//
// The model and its defaults follow kith's notes on the research (Dunbar's
// layers of about 5, 15, 50 and 150 people with contact about weekly,
// monthly, quarterly and yearly; closeness fading about 15% a year without
// contact; weak ties fading within months). Everything is
// a parameter (Params) and nothing reads the clock: the time now is always an
// argument, so the same input gives the same answer.
//
// The model, in short:
//   - At most one interaction per day counts, the one with the highest weight.
//     A weight is the kind's weight (meeting 1, call 0.7, message 0.3, …)
//     times a group factor (halved for 3-4 other people, quartered for more).
//   - A contact's circle comes from a category the user set (kith-inner,
//     kith-close, kith-friends, kith-active); else it is inferred from the
//     weighted days of contact in the past year: a circle needs at least half
//     the contacts a year it expects (inner 26, close 6, friends 2, active any).
//   - The circle's expected interval C (inner 7 days, close 30, friends 90,
//     active 365; doubled for family) against the days since the last
//     interaction gives the overdue ratio r: healthy r ≤ 1, due ≤ 1.5,
//     fading ≤ 3, cold beyond.
//   - Follow-up: first met (a meeting, card, event or call) within the last
//     30 days, nothing since, flagged from day 3, and new to the address book.
//   - Dormant: cold, circle not set by the user, and at most two days of
//     contact ever; dormant contacts are never nagged.
//   - Strength is how much in touch the contact is now: the weights decayed
//     with half-life C, s, mapped to 0..1 as s/(1+s) (one full meeting today
//     is 0.5). Bond is the shared history: the weights decayed with a
//     half-life of 4.3 years (110 days while there is only one day of
//     contact), b, mapped to 0..1 as b/(10+b): ten full meetings' worth of
//     history is 0.5, a friend met monthly for years about 0.9.
package decay
