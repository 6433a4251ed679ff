package interactions

import (
	"strings"
	"unicode"

	ksync "kith/sync"
)

// kinds maps the words that name a kind of interaction, lower case, English
// and German, to that kind. The first listed word in a line decides its kind
// ("call about lunch" is a call, "lunch, then a call" a meeting); a line with
// none of them is a meeting, the commonest thing people log. Words are whole
// words: "met" does not match "method".
var kinds = map[string]string{
	// Meetings: meals, drinks, visits.
	"coffee": ksync.KindMeeting, "lunch": ksync.KindMeeting, "dinner": ksync.KindMeeting,
	"breakfast": ksync.KindMeeting, "drinks": ksync.KindMeeting, "beer": ksync.KindMeeting,
	"met": ksync.KindMeeting, "meet": ksync.KindMeeting, "meeting": ksync.KindMeeting,
	"visit": ksync.KindMeeting, "visited": ksync.KindMeeting,
	"kaffee": ksync.KindMeeting, "mittagessen": ksync.KindMeeting, "abendessen": ksync.KindMeeting,
	"frühstück": ksync.KindMeeting, "getroffen": ksync.KindMeeting, "treffen": ksync.KindMeeting,
	"besuch": ksync.KindMeeting, "besucht": ksync.KindMeeting,
	// Calls, voice or video.
	"call": ksync.KindCall, "called": ksync.KindCall, "phone": ksync.KindCall,
	"phoned": ksync.KindCall, "rang": ksync.KindCall, "zoom": ksync.KindCall,
	"video": ksync.KindCall, "facetime": ksync.KindCall, "skype": ksync.KindCall,
	"anruf": ksync.KindCall, "angerufen": ksync.KindCall, "telefoniert": ksync.KindCall,
	"telefonat": ksync.KindCall,
	// Written messages.
	"text": ksync.KindMessage, "texted": ksync.KindMessage, "message": ksync.KindMessage,
	"messaged": ksync.KindMessage, "sms": ksync.KindMessage, "whatsapp": ksync.KindMessage,
	"signal": ksync.KindMessage, "telegram": ksync.KindMessage, "nachricht": ksync.KindMessage,
	// Mail the user sent.
	"mail": ksync.KindMailSent, "mailed": ksync.KindMailSent, "email": ksync.KindMailSent,
	"emailed": ksync.KindMailSent,
	// Business cards exchanged.
	"card": ksync.KindCard, "scan": ksync.KindCard, "scanned": ksync.KindCard,
	"visitenkarte": ksync.KindCard,
}

// KindOf returns the kind of interaction text describes, by the keyword table:
// coffee, lunch, dinner, met, visit… → meeting; call, phoned, rang, zoom,
// video… → call; texted, message, whatsapp, signal… → message; mail,
// emailed → mail-sent; card, scan → card; otherwise meeting. The first
// keyword in text decides.
func KindOf(text string) string {
	for w := range strings.FieldsFuncSeq(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if k, ok := kinds[w]; ok {
			return k
		}
	}
	return ksync.KindMeeting
}
