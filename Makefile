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

# The pipeline: commit the data and the secret seed, fix the beacon, train
# with DP, recompute the guarantee from public files, prove every step (about
# two minutes the first time: the keys' setup is then cached), verify from
# public files and print a summary. An interrupted demo continues with
# `bin/zkdp pipeline --out runs/quickstart --resume`.
demo: build
	$(BIN) pipeline --config quickstart --out $(DEMO) --force

vet: deps
	$(GO) vet ./...

# The default tier, then the prover_checks tier: full Groth16 setup, proving
# and verification of the gadgets, of trained steps, train -> prove ->
# verify through the CLI, and trained runs verified on-chain, on the
# simulated chain and on a geth --dev node built from the module proxy (the
# first time, building geth takes a few minutes; it is then cached).
test: deps vet
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 45m -tags prover_checks ./circuits/... ./prover/ ./stepproof/ ./fleet/ ./cli/ ./chain/ ./verifier-contracts/ ./pipeline/

# The quicker sections of benchmarks/RESULTS.md, saved to
# benchmarks/results/, then the report. The slow ones run alone, e.g.
#   bin/zkdp bench accuracy --seeds 1,2,3,4,5 --epsilon 0.5,1,2,4 --save
#   bin/zkdp bench scaling --sampling-rate 0.01,0.02,0.05 --hidden 0,4 --save
# (go test -bench . ./benchmarks/ runs the same measurements as benchmarks.)
bench: build
	$(BIN) bench accountant --save
	$(BIN) bench training --save
	$(BIN) bench circuits --save
	$(BIN) bench inference --save
	$(BIN) bench proving --save
	$(BIN) bench report

clean:
	rm -rf bin runs
