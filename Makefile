BIN     := bin/lmc
PKG     := ./cmd/lmc
# A tag's name (v1.2.3, v1.2.3-4-gabcdef0); with no tag yet, a pre-release
# version naming the commit rather than a bare commit id.
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || echo "0.0.0-dev+$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet 2>/dev/null || echo .dirty)")
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
FUZZTIME ?= 30s
export CGO_ENABLED=0

.PHONY: all build install test test-short lint golden fuzz bench completions docs clean verify-version

all: lint test build

build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) $(PKG)

install:
	go install -trimpath -ldflags '$(LDFLAGS)' $(PKG)

# The CI contract: formatting, vet, and every test with the race detector.
test: lint
	CGO_ENABLED=1 go test -race -count=1 ./...

test-short:
	go test -count=1 ./...

lint:
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

golden:
	LMC_UPDATE_GOLDEN=1 go test -count=1 ./internal/commands/...

# Run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$(go list ./...); do \
	  for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; go test -run XXX -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Go benchmarks, then whole-process timings against a sandbox (docs/performance.md).
bench:
	go test -run XXX -bench . -benchmem ./...
	scripts/bench-e2e.sh

# Regenerate the committed completion scripts and docs/reference.md from the
# command tree (a test fails when they drift).
completions docs:
	go run ./cmd/lmc __generate .

verify-version: build
	$(BIN) --version | grep -qF '$(VERSION)'

clean:
	rm -rf bin dist
