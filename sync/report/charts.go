package report

import (
	"fmt"
	"strconv"
	"time"

	"kith/sync/decay"
)

// chart is an inline SVG drawing made of a few primitives; numbers are
// pre-formatted so that output is byte-for-byte stable.
type chart struct {
	ID     string
	Title  string
	Width  int
	Height int
	Rects  []rect
	Lines  []line
	Texts  []text
	Legend []legendItem
}

type rect struct {
	X, Y, W, H string
	Fill       string
	Tip        string
}

type line struct {
	X1, Y1, X2, Y2 string
	Stroke         string
	Dash           bool
}

type text struct {
	X, Y   string
	Anchor string // start, middle, end
	Class  string
	S      string
}

type legendItem struct {
	Color, Label string
}

// Colours: one per state, and the colours of the other charts.
var stateColors = map[string]string{
	string(decay.StateFollowUp): "#7b3fe4",
	string(decay.StateHealthy):  "#2e9d5b",
	string(decay.StateDue):      "#d9a521",
	string(decay.StateFading):   "#e07b39",
	string(decay.StateCold):     "#3b6fd8",
	string(decay.StateDormant):  "#9aa3ad",
	string(decay.StateNone):     "#d5d9de",
}

const (
	circleColor = "#5a7fa8"
	targetColor = "#c0392b"
	sinceColor  = "#8c5cc7"
	gridColor   = "#e3e6ea"
)

func f(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// niceMax rounds n up to a round axis maximum.
func niceMax(n int) int {
	if n <= 5 {
		return 5
	}
	for _, step := range []int{10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000} {
		if n <= step {
			return step
		}
	}
	return (n/10000 + 1) * 10000
}

// gridY draws horizontal grid lines with labels from 0 to max.
func (c *chart) gridY(left, top, plotW, plotH float64, max int) {
	for i := 0; i <= 5; i++ { // niceMax values divide by 5
		v := max * i / 5
		y := top + plotH - plotH*float64(i)/5
		c.Lines = append(c.Lines, line{X1: f(left), Y1: f(y), X2: f(left + plotW), Y2: f(y), Stroke: gridColor})
		c.Texts = append(c.Texts, text{X: f(left - 6), Y: f(y + 4), Anchor: "end", Class: "axis", S: strconv.Itoa(v)})
	}
}

// historyChart stacks the state counts of each week.
func historyChart(weeks []Week) chart {
	c := chart{ID: "chart-history", Title: "Contacts by state, week by week", Width: 640, Height: 260}
	left, top, plotW, plotH := 44.0, 12.0, 584.0, 196.0
	total := 0
	for _, w := range weeks {
		sum := 0
		for _, n := range w.Counts {
			sum += n
		}
		total = max(total, sum)
	}
	ymax := niceMax(total)
	c.gridY(left, top, plotW, plotH, ymax)
	slot := plotW / float64(max(len(weeks), 4))
	barW := slot * 0.7
	every := (len(weeks) + 7) / 8 // at most 8 labels
	for i, w := range weeks {
		x := left + slot*float64(i) + (slot-barW)/2
		y := top + plotH
		for _, s := range decay.States() {
			n := w.Counts[string(s)]
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(ymax)
			y -= h
			c.Rects = append(c.Rects, rect{X: f(x), Y: f(y), W: f(barW), H: f(h), Fill: stateColors[string(s)],
				Tip: fmt.Sprintf("week of %s: %d %s", w.Start, n, s)})
		}
		if i%every == 0 || i == len(weeks)-1 {
			label := w.Start
			if t, err := time.Parse(time.DateOnly, w.Start); err == nil {
				label = t.Format("2 Jan")
			}
			c.Texts = append(c.Texts, text{X: f(x + barW/2), Y: f(top + plotH + 16), Anchor: "middle", Class: "axis", S: label})
		}
	}
	for _, s := range decay.States() {
		c.Legend = append(c.Legend, legendItem{stateColors[string(s)], string(s)})
	}
	return c
}

// circlesChart draws each circle's size as a bar against its typical size,
// a dashed mark. Each row has its own scale (the larger of the two, plus a
// margin), so that 3 of 5 reads as clearly as 90 of 150.
func circlesChart(circles []CircleSize) chart {
	c := chart{ID: "chart-circles", Title: "Circle sizes against typical sizes", Width: 640, Height: 40*len(circles) + 16}
	left, top, plotW := 72.0, 8.0, 440.0
	row := 40.0
	for i, k := range circles {
		y := top + row*float64(i)
		scale := float64(max(k.Size, k.Target, 1)) * 1.2
		w := plotW * float64(k.Size) / scale
		c.Texts = append(c.Texts, text{X: f(left - 8), Y: f(y + 20), Anchor: "end", Class: "label", S: k.Name})
		c.Lines = append(c.Lines, line{X1: f(left), Y1: f(y + 16), X2: f(left + plotW), Y2: f(y + 16), Stroke: gridColor})
		c.Rects = append(c.Rects, rect{X: f(left), Y: f(y + 6), W: f(w), H: f(20), Fill: circleColor,
			Tip: fmt.Sprintf("%s: %d contacts, typically %d", k.Name, k.Size, k.Target)})
		tx := left + plotW*float64(k.Target)/scale
		c.Lines = append(c.Lines, line{X1: f(tx), Y1: f(y + 1), X2: f(tx), Y2: f(y + 31), Stroke: targetColor, Dash: true})
		c.Texts = append(c.Texts, text{X: f(left + plotW + 12), Y: f(y + 20), Anchor: "start", Class: "value",
			S: fmt.Sprintf("%d of typically %d", k.Size, k.Target)})
	}
	c.Legend = []legendItem{{circleColor, "contacts"}, {targetColor, "typical size (5, 15, 50, 150: Dunbar's layers)"}}
	return c
}

// sinceChart is a histogram of days since the last interaction.
func sinceChart(buckets []bucket) chart {
	c := chart{ID: "chart-since", Title: "Days since the last interaction", Width: 640, Height: 240}
	left, top, plotW, plotH := 44.0, 12.0, 584.0, 190.0
	most := 0
	for _, b := range buckets {
		most = max(most, b.N)
	}
	ymax := niceMax(most)
	c.gridY(left, top, plotW, plotH, ymax)
	slot := plotW / float64(len(buckets))
	barW := slot * 0.72
	for i, b := range buckets {
		x := left + slot*float64(i) + (slot-barW)/2
		h := plotH * float64(b.N) / float64(ymax)
		fill := sinceColor
		if b.Max < 0 {
			fill = stateColors[string(decay.StateNone)]
		}
		c.Rects = append(c.Rects, rect{X: f(x), Y: f(top + plotH - h), W: f(barW), H: f(h), Fill: fill,
			Tip: fmt.Sprintf("%s: %d contacts", b.Label, b.N)})
		c.Texts = append(c.Texts, text{X: f(x + barW/2), Y: f(top + plotH + 16), Anchor: "middle", Class: "axis", S: b.Label})
	}
	return c
}
