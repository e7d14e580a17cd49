//go:build cgo

package xsd

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestConcurrent validates a mix of valid, invalid and refused documents
// from many goroutines at once through one Schema: every answer equals the
// one given sequentially. Run it with -race too.
func TestConcurrent(t *testing.T) {
	s := mustDefault(t)
	docs := concurrentDocs(t)
	want := make([]string, len(docs))
	parsed := make([]bool, len(docs)) // xmlsec.Parse accepts it: ValidateParsed may be given it
	for i, d := range docs {
		want[i] = fmt.Sprint(s.Validate(d))
		_, err := xmlsec.Parse(d, xmlsec.Limits{})
		parsed[i] = err == nil
	}
	const workers, rounds = 16, 8
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for k := range docs {
					i := (k + w + r) % len(docs)
					if got := fmt.Sprint(s.Validate(docs[i])); got != want[i] {
						errs <- fmt.Sprintf("worker %d, doc %d: %s, sequentially %s", w, i, got, want[i])
						return
					}
					// ValidateParsed reuses validation contexts: one that
					// refused a document must take the next on its merits.
					if parsed[i] {
						if got := s.ValidateParsed(docs[i]); (got == nil) != (want[i] == "<nil>") {
							errs <- fmt.Sprintf("worker %d, doc %d: ValidateParsed %v, Validate %s", w, i, got, want[i])
							return
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// concurrentDocs returns the spec examples, a few captures with known
// deviations, and the negative cases; at least one valid and one invalid.
func concurrentDocs(t *testing.T) [][]byte {
	files, err := filepath.Glob("testdata/examples/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, f := range files {
		docs = append(docs, readTestdata(t, strings.TrimPrefix(filepath.ToSlash(f), "testdata/")))
	}
	for _, rel := range []string{"lasso/lasso-02-QueryResponse-resp.xml", "lasso/lasso-00-bootstrap-epr.xml", "zxid/zxid-15-GET-zxidwspcgi_o_B-resp.http"} {
		docs = append(docs, captureBytes(t, rel))
	}
	for _, d := range []string{
		authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="yesterday"/>`,
		`<!DOCTYPE a [<!ENTITY x "y">]><a/>`,
		`<a><b></a>`,
		`<x:Foo xmlns:x="urn:renkei:test"/>`,
	} {
		docs = append(docs, []byte(d))
	}
	return docs
}
