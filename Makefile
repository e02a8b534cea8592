# zkdp: the two commands are `make demo` (the main job on embedded defaults)
# and `make test` (every test; .ci/run calls it on a clean checkout).
GO      ?= go
BIN     := bin/zkdp
DEMO    ?= runs/quickstart

.PHONY: demo test deps build bench vet clean

# Go modules, and solc (the npm package pinned in package.json, used only to
# compile the verifier contracts) under ./node_modules.
deps:
	$(GO) mod download
	npm ci --no-audit --no-fund

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
# and verification of the gadgets, of trained steps, train -> prove ->
# verify through the CLI, and trained runs verified on-chain, on the
# simulated chain and on a geth --dev node built from the module proxy (the
# first time, building geth takes a few minutes; it is then cached).
test: deps vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -timeout 30m -tags prover_checks ./circuits/... ./prover/ ./stepproof/ ./cli/ ./chain/ ./verifier-contracts/

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./benchmarks/

clean:
	rm -rf bin runs
