# huaian-platform-ops: the two commands are `make demo` and `make test` (README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The lab's vault password (made by `lab/lab.py secrets`); production runs use the operator's own.
export ANSIBLE_VAULT_PASSWORD_FILE := $(CURDIR)/.lab/vault-password
# Change request id for the lab demo's changing runs (production runs pass their own).
CHANGE_ID ?= LAB-$(shell date +%Y)-0001
SCENARIO ?= os_baseline
# ARA=1 records every ansible run of this make into ARA (.ara/server/ansible.sqlite, labels cr:<id>, check:<bool>).
ifeq ($(ARA),1)
export HUAIAN_ARA := 1
endif
export ARA_BASE_DIR ?= $(CURDIR)/.ara/server
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
PLAYBOOKS := $(sort $(wildcard playbooks/*.yml))

.PHONY: runs ara-runs help deps venv image secrets lab-up lab-down lab-status vendor-lab vendor-lab-down scale-up scale-down ee ara-central demo demo-steps bench test lint yamllint ansible-lint pytest syntax molecule molecule-all clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## install the Debian packages the controller and lab need (as root)
	@lab/install-deps.sh

$(BIN)/.installed: pyproject.toml | deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > $(VENV)/requirements.txt
	@echo "venv: installing the pinned toolchain into $(VENV)"
	@$(BIN)/pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $@

venv: $(BIN)/.installed ## create .venv from pyproject.toml (quick when current)
	@echo "venv: $(VENV) current ($$($(BIN)/ansible --version | head -1))"

# After secrets: lab.py image writes the vault too when it is missing, and make -j would run both at once.
image: secrets ## build the lab images and media (skipped when current)
	@$(BIN)/python lab/lab.py image

secrets: venv ## the lab vault: random secrets, encrypted, never committed
	@$(BIN)/python lab/lab.py secrets

lab-up: venv ## bring the lab up: podman config, images, network, one container per lab host
	@$(BIN)/python lab/lab.py up

lab-down: venv ## remove the lab containers (both lab inventories), their volumes and the network
	@$(BIN)/python lab/lab.py down

lab-status: venv ## list the lab containers (both lab inventories)
	@$(BIN)/python lab/lab.py status

# The vendor-installed lab (docs/lab.md): the hosts of inventories/lab-vendor, laid out by the vendors' tools'
# stand-in (lab/playbooks/vendor_install.yml; idempotent, a second run changes nothing). Never the project's roles.
VENDOR_INVENTORY := inventories/lab-vendor
vendor-lab: venv ## the vendor-installed lab: containers of inventories/lab-vendor, then lab/playbooks/vendor_install.yml
	@$(BIN)/python lab/lab.py up --inventory $(VENDOR_INVENTORY)
	@$(BIN)/ansible-playbook -i $(VENDOR_INVENTORY) lab/playbooks/vendor_install.yml

vendor-lab-down: venv ## remove the vendor-installed lab's containers and their /data volumes
	@$(BIN)/python lab/lab.py down --inventory $(VENDOR_INVENTORY)

# The steps, their logs and the closing summary are lab/demo.yml's (lab/demo.py); FROM=<step> resumes.
FROM ?=
demo: lab-up ## the main job: lab up, then every step of lab/demo.yml (make demo FROM=<step> resumes at a step)
	@$(BIN)/python lab/demo.py run --change-id $(CHANGE_ID) $(if $(FROM),--from $(FROM))

demo-steps: venv ## list make demo's steps (make demo FROM=<step> resumes at one)
	@$(BIN)/python lab/demo.py list

# The scale lab's hosts are seeded with the files of the converged lab hosts of their kind (docs/performance.md).
scale-up: lab-up ## the scale lab: 120 light sshd hosts shaped like inventories/huaian (lab/scale)
	@$(BIN)/ansible-playbook playbooks/site.yml -e change_id=$(CHANGE_ID) >/dev/null
	@$(BIN)/ansible-playbook lab/playbooks/scale_seed.yml >/dev/null
	@$(BIN)/python lab/lab.py scale-up

scale-down: venv ## remove the scale lab's containers and network
	@$(BIN)/python lab/lab.py scale-down

# make bench BENCH_RUNS=5 BENCH_SIZES=120; BENCH_ARGS=--mitogen times every case under mitogen (needs it installed).
BENCH_RUNS ?= 3
BENCH_SIZES ?= 30,60,120
BENCH_ARGS ?=
bench: scale-up ## benchmarks: estate speed on the scale lab, restore on the lab; ratios to baselines measured in the same run (reports/bench/)
	$(BIN)/python tools/bench/estate.py --runs $(BENCH_RUNS) --sizes $(BENCH_SIZES) $(BENCH_ARGS)
	$(BIN)/ansible-playbook tools/bench/restore.yml

ee: image ## build the AWX / AAP execution environment on the lab base image and check it (ee/, docs/awx.md)
	@$(BIN)/python lab/lab.py ee

ara-central: ee ## ARA's server on PostgreSQL, fed by a playbook run from the execution environment (docs/awx.md)
	@$(BIN)/python lab/lab.py ara-central

runs: ## every run record of a change request: make runs CR=CR-2026-0142 (docs/runbooks/change-records.md)
	@test -n "$(CR)" || { echo "runs: give the change request, e.g. make runs CR=CR-2026-0142"; exit 2; }
	@find records -name '*-$(CR).json' 2>/dev/null | sort | while read -r f; do \
	  $(BIN)/python -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["start"], r["result"], "check" if r["check_mode"] else "apply", r["operator"]["name"], r["playbook"].split("/")[-1], "limit=%s" % r["limit"], sys.argv[1])' "$$f"; done

ara-runs: venv ## every ARA-recorded run of a change request: make ara-runs CR=CR-2026-0142
	@test -n "$(CR)" || { echo "ara-runs: give the change request, e.g. make ara-runs CR=CR-2026-0142"; exit 2; }
	@test -f "$(ARA_BASE_DIR)/ansible.sqlite" || { echo "ara-runs: no ARA database in $(ARA_BASE_DIR) (run with ARA=1 first)"; exit 0; }; \
	$(BIN)/ara playbook list --label "cr:$(CR)" -c id -c status -c path -c started -c duration --limit 1000

# The static checks and the lab image build run side by side (each mostly uses one core; the image build
# waits on the network and the disk), then the molecule scenarios, which keep both cores busy.
test: ## everything CI runs
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint pytest syntax image
	@$(MAKE) --no-print-directory molecule-all
	@echo "test: all checks passed"

lint: yamllint ansible-lint ## yamllint and ansible-lint (production profile)

yamllint: venv
	$(BIN)/yamllint --strict .

ansible-lint: secrets
	$(BIN)/ansible-lint --offline

pytest: secrets ## unit tests of the plugins and controller-side integration tests
	$(BIN)/pytest

# One ansible-playbook per inventory for all playbooks (a start per playbook cost a minute); an error
# names the playbook's file.
syntax: secrets ## --syntax-check every playbook against both inventories
	@for inv in inventories/lab inventories/huaian; do \
	  $(BIN)/ansible-playbook --syntax-check -i $$inv $(PLAYBOOKS) >/dev/null || { echo "syntax: a playbook FAILED against $$inv (above)"; exit 1; }; \
	  echo "syntax: $(words $(PLAYBOOKS)) playbooks ok against $$inv"; done

molecule: image secrets ## run one molecule scenario: make molecule SCENARIO=<name>
	cd $(CURDIR) && $(BIN)/molecule test -s $(SCENARIO)

# Scenarios run MOLECULE_JOBS at a time, longest first (each has its own containers, addresses and
# ephemeral directory); each one's output goes to .cache/molecule/<scenario>.log, the end of a failed
# one's is printed, and once all have ended a few lines per failed one (tools/molecule_digest.py) say why,
# so that the last lines of a CI run name the cause; each records into its own ARA database (.ara/molecule-<scenario>: no two writers on
# one sqlite file). MOLECULE_JOBS=1 runs them one after the other.
MOLECULE_JOBS ?= 2
MOLECULE_LONGEST_FIRST := migration backup inspection bes failover migration_dump kingbase adopt preview os_baseline
# Scenarios to leave out of a run: make molecule-all MOLECULE_NOT_IN_TEST="migration backup".
MOLECULE_NOT_IN_TEST ?=
MOLECULE_QUEUE := $(filter-out $(MOLECULE_NOT_IN_TEST),$(filter $(SCENARIOS),$(MOLECULE_LONGEST_FIRST)) $(filter-out $(MOLECULE_LONGEST_FIRST),$(SCENARIOS)))

molecule-all: image secrets ## run every molecule scenario (MOLECULE_JOBS at a time)
	@mkdir -p .cache/molecule; rm -f .cache/molecule/*.failed; start=$$(date +%s); \
	printf '%s\n' $(MOLECULE_QUEUE) | xargs -P $(MOLECULE_JOBS) -I{} sh -c '\
	  t=$$(date +%s); ARA_BASE_DIR=$(CURDIR)/.ara/molecule-{} $(BIN)/molecule test -s {} > .cache/molecule/{}.log 2>&1; rc=$$?; \
	  echo "molecule {}: $$( [ $$rc -eq 0 ] && echo passed || echo FAILED ) in $$(( $$(date +%s) - t )) s (.cache/molecule/{}.log)"; \
	  if [ $$rc -ne 0 ]; then tail -n 400 .cache/molecule/{}.log; touch .cache/molecule/{}.failed; fi; exit $$rc' \
	  || { echo "molecule-all: a scenario failed; why, in short:"; \
	       for f in .cache/molecule/*.failed; do $(BIN)/python tools/molecule_digest.py "$${f%.failed}.log"; done; exit 1; }; \
	echo "molecule-all: $(words $(MOLECULE_QUEUE)) scenarios passed in $$(( $$(date +%s) - start )) s"

clean: lab-down ## remove the lab and the venv (images stay)
	rm -rf $(VENV) .cache
