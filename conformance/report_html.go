package conformance

import (
	"html/template"
	"io"
)

// htmlPage is the self-contained HTML report: inline CSS, no script, no
// external resource of any kind.
var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Renkei conformance: {{.R.Role}} {{.R.Mode}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.pass{background:#e3f6e3}.fail,.error{background:#fbe0e0}.uncovered,.advisory{background:#fff0c8}
.skipped-not-applicable,.out-of-scope{background:#eee;color:#555}
pre{white-space:pre-wrap;word-break:break-all;background:#fafafa;border:1px solid #ddd;padding:.5em;max-height:30em;overflow:auto}
.verdict{font-weight:bold;font-size:1.4em}
</style></head><body>
<h1>Renkei conformance report</h1>
<p>Role <b>{{.R.Role}}</b>, mode <b>{{.R.Mode}}</b>, target <code>{{.R.Target}}</code>{{if .R.Only}}, scope: only {{range .R.Only}}<code>{{.}}</code> {{end}}{{end}}.
Started {{.R.Started.UTC.Format "2006-01-02 15:04:05Z"}}, finished {{.R.Finished.UTC.Format "2006-01-02 15:04:05Z"}}.</p>
<p>Failures at level: {{.Level}}.{{if .R.Skip}} Excluded by -skip: {{range .R.Skip}}<code>{{.}}</code> {{end}}{{end}}</p>
{{if .R.RunError}}<p class="error"><b>Run error:</b> {{.R.RunError}}</p>{{end}}
<p class="verdict {{if .Failed}}fail{{else}}pass{{end}}">{{if .Failed}}FAIL{{else}}PASS{{end}}</p>
<p>{{.Counts.pass}} pass, {{.Counts.fail}} fail, {{.Counts.advisory}} warning (a SHOULD or recommended practice not followed), {{.Counts.error}} error, {{index .Counts "skipped-not-applicable"}} not applicable, {{index .Counts "out-of-scope"}} excluded.</p>
<h2>Coverage</h2>
<table><tr><th>row</th><th>feature</th><th>source</th><th>requirement</th><th>verdict</th><th>reason</th><th>cases</th></tr>
{{range .R.Rows}}<tr class="{{.Verdict}}"><td>{{.Row.ID}}</td><td>{{.Row.Feature}}</td><td>{{.Row.Source}}</td><td>{{.Req}}{{if .Unconfirmed}} (not confirmed against the conformance document){{end}}</td><td>{{.Verdict}}</td><td>{{.Reason}}</td><td>{{range .Cases}}<a href="#{{.}}">{{.}}</a><br>{{end}}</td></tr>
{{end}}</table>
<h2>Cases</h2>
<table><tr><th>case</th><th>clause</th><th>level</th><th>kind</th><th>verdict</th><th>reason</th></tr>
{{range .Cases}}<tr class="{{.R.Outcome.Verdict}}"><td><a href="#{{.R.Case.ID}}">{{.R.Case.ID}}</a></td><td>{{.R.Case.Clause}}{{range .Links}}<br><a href="{{.}}">{{.}}</a>{{end}}</td><td>{{.Level}}</td><td>{{if .R.Case.Positive}}positive{{else}}negative{{end}}</td><td>{{.R.Outcome.Verdict}}</td><td>{{.Prefix}}{{.R.Outcome.Reason}}</td></tr>
{{end}}</table>
<h2>Exchanged messages</h2>
{{range .R.Results}}<section id="{{.Case.ID}}"><h3>{{.Case.ID}} <small class="{{.Outcome.Verdict}}">{{.Outcome.Verdict}}</small></h3>
<p>{{.Case.Summary}} ({{.Case.Clause}})</p>
{{range .Messages}}<p><b>{{.Direction}}</b> {{.Label}} <code>{{.URL}}</code>{{if .Status}} HTTP {{.Status}}{{end}}</p><pre>{{.Body}}</pre>
{{else}}<p>No message exchanged.</p>{{end}}</section>
{{end}}</body></html>
`))

// htmlCase is a case result as the HTML page shows it.
type htmlCase struct {
	R      Result
	Level  Level
	Links  []string
	Prefix string
}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	var cs []htmlCase
	for _, res := range r.Results {
		cs = append(cs, htmlCase{R: res, Level: res.Level(), Links: ClauseLinks(res.Case.Clause), Prefix: outcomePrefix(res.Outcome)})
	}
	counts := map[string]int{}
	for v, n := range r.Counts() {
		counts[string(v)] = n
	}
	return htmlPage.Execute(w, struct {
		R      *Report
		Failed bool
		Level  string
		Cases  []htmlCase
		Counts map[string]int
	}{r, r.Failed(), r.levelText(), cs, counts})
}
