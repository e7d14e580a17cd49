# Renkei: two commands for a newcomer, `make demo` and `make test`.
GO ?= go
export CGO_ENABLED := 1

.PHONY: deps demo demo-nodes test check bench fuzz

# NESTED are modules of test-only peers (ARCHITECTURE.md): `go ... ./...`
# at the root does not descend into them, so each target runs them itself.
NESTED := interop/crewjam

# AXE is axe-core, the accessibility checker the browser tests inject
# (internal/testkit/chrome, discovery/consent_browser_test.go), kept in
# .deps/.
AXE_VERSION := 4.14.1
AXE := .deps/axe/node_modules/axe-core/axe.min.js

deps:
	@scripts/install-deps.sh
	@grep -qs '"version": "$(AXE_VERSION)"' $(dir $(AXE))package.json || \
	  npm install --prefix .deps/axe --no-package-lock --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@$(GO) mod download
	@for m in $(NESTED); do (cd $$m && $(GO) mod download) || exit 1; done

demo: deps
	$(GO) run ./cmd/renkei demo

# demo-nodes: two nodes each of the IdP, the DS and hospital A's WSP
# behind round-robin balancers over a throwaway PostgreSQL (README
# "Several nodes").
demo-nodes: deps
	$(GO) run ./cmd/renkei demo -nodes

# check: formatting and vet, run before every commit and by `make test`.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags renkei_faults ./idp/ ./cmd/renkei-idp/
	$(GO) vet -tags renkei_faults ./discovery/ ./wsp/ ./wsc/sp/ ./wsf/client/ ./conformance/
	@for m in $(NESTED); do echo "cd $$m && $(GO) vet ./..."; (cd $$m && $(GO) vet ./...) || exit 1; done

# The browser tests write their screenshots to .artifacts/ (go test -artifacts).
test: deps check
	@mkdir -p .artifacts
	$(GO) test -count=1 -timeout 25m -artifacts -outputdir $(CURDIR)/.artifacts ./...
	$(GO) test -count=1 -tags renkei_faults -run 'TestBrokenDSCaught|TestBrokenWSPCaught|TestBrokenSPCaught|TestBrokenWSCCaught|TestBrokenIdPTerminateCaught' ./conformance/
	@for m in $(NESTED); do echo "cd $$m && $(GO) test ./..."; (cd $$m && $(GO) test -count=1 -timeout 10m ./...) || exit 1; done

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

# fuzz: FUZZTIME per target, by hand (make test runs only the seed corpora).
FUZZTIME ?= 1m
fuzz: deps
	@scripts/fuzz-all.sh $(FUZZTIME)
