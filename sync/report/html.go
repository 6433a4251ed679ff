package report

import (
	_ "embed"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var pageSource string

// htmlView is the view with its charts drawn.
type htmlView struct {
	*view
	Charts []chart
}

// peopleSection is one list of contacts on the page.
type peopleSection struct {
	ID, Title, Empty string
	List             list
}

// newPage parses the page template. It is parsed per call: rendering is
// rare, and there is no package state to share.
func newPage() (*template.Template, error) {
	return template.New("report.html").Funcs(template.FuncMap{
		"verb":   verb,
		"circle": circleNote,
		"color": func(state string) template.CSS {
			if c, ok := stateColors[state]; ok {
				return template.CSS(c)
			}
			return template.CSS("#d5d9de")
		},
		"section": func(id, title, empty string, l list) peopleSection {
			return peopleSection{ID: id, Title: title, Empty: empty, List: l}
		},
	}).Parse(pageSource)
}

// WriteHTML writes the report as one self-contained HTML page
// (report.html): inline CSS and SVG charts, no script, nothing fetched.
func (r *Report) WriteHTML(w io.Writer) error {
	page, err := newPage()
	if err != nil {
		return err
	}
	v := newView(r)
	hv := htmlView{view: v, Charts: []chart{historyChart(v.Weeks), circlesChart(v.Circles), sinceChart(v.Since)}}
	if len(v.Circles) == 0 {
		hv.Charts = []chart{hv.Charts[0], hv.Charts[2]}
	}
	return page.Execute(w, hv)
}
