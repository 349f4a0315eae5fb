# SPDX-License-Identifier: GPL-3.0-or-later
# Entry points for people and CI; tests/run does the work (tests/run --help).
.PHONY: help test demo demo-down unit sanity core219 docs lint host lab molecule clean

help:
	@echo "make demo   boot the lab guests and run playbooks/demo.yml (KEEP=1 leaves them up)"
	@echo "make test   every test tier: unit sanity core219 docs lint host lab molecule"
	@echo "make TIER   one tier (unit, sanity, core219, docs, lint, host, lab, molecule)"

test:
	tests/run all

demo:
	tests/run demo

demo-down:
	tests/lab/lab down

unit sanity core219 docs lint host lab molecule:
	tests/run $@

clean:
	rm -rf tests/output
