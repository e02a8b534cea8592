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

# Train with DP, recompute the guarantee from public files, prove every step
# (about two minutes the first time: the keys' setup is then cached) and
# verify the proofs from public files.
demo: build
	$(BIN) train --config quickstart --out $(DEMO) --force
	rm -rf $(DEMO)/public/proofs
	$(BIN) privacy --run $(DEMO)
	$(BIN) prove --run $(DEMO)
	$(BIN) verify --run $(DEMO)

vet: deps
	$(GO) vet ./...

# The default tier, then the prover_checks tier: full Groth16 setup, proving
# and verification of the gadgets, of trained steps, and train -> prove ->
# verify through the CLI (about two minutes).
test: deps vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags prover_checks ./circuits/... ./prover/ ./stepproof/ ./cli/

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./benchmarks/

clean:
	rm -rf bin runs
