# zkdp: the two commands are `make demo` (the main job on embedded defaults)
# and `make test` (every test; .ci/run calls it on a clean checkout).
GO      ?= go
BIN     := bin/zkdp
DEMO    ?= runs/quickstart

.PHONY: demo test deps build bench vet clean

deps:
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/zkdp

demo: build
	$(BIN) train --config quickstart --out $(DEMO) --force
	$(BIN) privacy --run $(DEMO)

vet: deps
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./benchmarks/

clean:
	rm -rf bin runs
