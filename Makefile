# Renkei: two commands for a newcomer, `make demo` and `make test`.
GO ?= go
export CGO_ENABLED := 1

.PHONY: deps demo test check bench fuzz

deps:
	@scripts/install-deps.sh
	@$(GO) mod download

demo: deps
	$(GO) run ./cmd/renkei demo

# check: formatting and vet, run before every commit and by `make test`.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps check
	$(GO) test -count=1 -timeout 25m ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

# fuzz: FUZZTIME per target, by hand (make test runs only the seed corpora).
FUZZTIME ?= 1m
fuzz: deps
	@scripts/fuzz-all.sh $(FUZZTIME)
