package portal

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// Point is one lab value of a trend.
type Point struct {
	When        time.Time
	Value       float64
	Text        string
	Unit        string
	Low, High   float64
	HasLow      bool
	HasHigh     bool
	Institution Name
	Range       Range
}

// Trend is one test's numeric results over time, at every institution,
// oldest first.
type Trend struct {
	Code, Name string
	Points     []Point
}

// LabTrend collects the numeric results of test code from the clinical
// sections of ov.
func LabTrend(ov *Overview, code string) *Trend {
	t := &Trend{Code: code}
	for _, s := range ov.Sections {
		if s.ServiceType != dst.Clinical {
			continue
		}
		for i := range s.Items["LabResult"] {
			it := &s.Items["LabResult"][i]
			if it.Get("Code") != code {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(it.Get("Value")), 64)
			if err != nil {
				continue
			}
			if t.Name == "" {
				t.Name = it.Get("Name")
			}
			p := Point{When: When(s.Service, it), Value: v, Text: it.Get("Value"), Unit: it.Get("Unit"),
				Institution: s.Institution, Range: LabRange(it)}
			if lo, err := strconv.ParseFloat(it.Get("Low"), 64); err == nil {
				p.Low, p.HasLow = lo, true
			}
			if hi, err := strconv.ParseFloat(it.Get("High"), 64); err == nil {
				p.High, p.HasHigh = hi, true
			}
			t.Points = append(t.Points, p)
		}
	}
	sort.SliceStable(t.Points, func(i, j int) bool { return t.Points[i].When.Before(t.Points[j].When) })
	return t
}

// The chart's geometry, in SVG user units.
const (
	chartW, chartH     = 640, 240
	padL, padR         = 56, 16
	padT, padB         = 16, 40
	plotW, plotH       = chartW - padL - padR, chartH - padT - padB
	maxChartPoints     = 200
	chartDateLayout    = "2006-01-02"
	chartGridlineCount = 4
)

// SVG renders the trend as an inline SVG chart (markup, escaped), with no script: the
// reference range as a band, each value a point (out of range drawn
// differently and labelled), the axes labelled. title and desc are the
// chart's accessible name and description in the page's language.
func (t *Trend) SVG(title, desc string) string {
	pts := t.Points
	if len(pts) > maxChartPoints {
		pts = pts[len(pts)-maxChartPoints:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="trend-title trend-desc" class="trend">`, chartW, chartH)
	fmt.Fprintf(&b, `<title id="trend-title">%s</title><desc id="trend-desc">%s</desc>`, html.EscapeString(title), html.EscapeString(desc))
	if len(pts) == 0 {
		b.WriteString(`</svg>`)
		return b.String()
	}
	lo, hi := pts[0].Value, pts[0].Value
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		if p.HasLow {
			lo = math.Min(lo, p.Low)
		}
		if p.HasHigh {
			hi = math.Max(hi, p.High)
		}
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	span := hi - lo
	lo, hi = lo-span*0.1, hi+span*0.1
	t0, t1 := pts[0].When, pts[len(pts)-1].When
	x := func(w time.Time) float64 {
		if !t1.After(t0) {
			return padL + plotW/2
		}
		return padL + float64(plotW)*float64(w.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(v float64) float64 { return padT + float64(plotH)*(hi-v)/(hi-lo) }
	// The reference range of the newest point, as a band.
	last := pts[len(pts)-1]
	if last.HasLow && last.HasHigh {
		fmt.Fprintf(&b, `<rect class="band" x="%d" y="%.1f" width="%d" height="%.1f"/>`, padL, y(last.High), plotW, y(last.Low)-y(last.High))
	}
	for i := 0; i <= chartGridlineCount; i++ {
		v := lo + (hi-lo)*float64(i)/chartGridlineCount
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, strconv.FormatFloat(v, 'g', 4, 64))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">%s</text>`, padL, chartH-12, t0.Format(chartDateLayout))
	if t1.After(t0) {
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, padL+plotW, chartH-12, t1.Format(chartDateLayout))
	}
	b.WriteString(`<polyline class="line" points="`)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x(p.When), y(p.Value))
	}
	b.WriteString(`"/>`)
	for _, p := range pts {
		class := "pt"
		if p.Range == High || p.Range == Low {
			class = "pt out"
		}
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="5"><title>%s %s %s</title></circle>`, class, x(p.When), y(p.Value),
			p.When.Format(chartDateLayout), html.EscapeString(p.Text), html.EscapeString(p.Unit))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
