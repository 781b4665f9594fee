# Two commands on a fresh machine: `make demo` and `make test`.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
FIREBREAK = .build/release/firebreak
LAB = Rules/lab.policy

.PHONY: setup build demo test bench bench-apply bench-import format lint clean

setup:
	./scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product firebreak

demo: build
	@echo "== firebreak check $(LAB)"
	$(FIREBREAK) check $(LAB)
	@echo "== firebreak fmt --check Rules/*.policy"
	$(FIREBREAK) fmt --check Rules/*.policy
	@echo "== firebreak compile --backend nft $(LAB)"
	$(FIREBREAK) compile --backend nft $(LAB)
	@echo "== firebreak compile --backend iptables $(LAB)"
	$(FIREBREAK) compile --backend iptables $(LAB)
	@echo "== the seed's ping, before the fix: RED -> BLUE is dropped, ARP passes"
	$(FIREBREAK) simulate Rules/lab-blocked.policy --from RED --dst 11.11.11.3 --proto icmp
	$(FIREBREAK) simulate Rules/lab-blocked.policy --from RED --dst 11.11.11.3 --proto arp
	@echo "== the seed's ping, after the fix: the echo and its reply pass"
	$(FIREBREAK) simulate $(LAB) --from RED --dst 11.11.11.3 --proto icmp
	$(FIREBREAK) simulate $(LAB) --from BLUE --dst 11.11.11.2 --proto icmp --icmp-type echo-reply --json
	@echo "== the lab, drawn (Graphviz)"
	$(FIREBREAK) topology show --format dot $(LAB)
	@echo "== proof on this kernel: the lab in scratch namespaces, real packets, compared with the predictions"
	@if [ "$$(id -u)" = 0 ]; then \
	  $(FIREBREAK) verify Rules/lab-blocked.policy && $(FIREBREAK) verify $(LAB); \
	else echo "(verify needs root: skipped)"; fi
	@echo "== apply with confirmation, on a scratch namespace standing for the VM"
	@if [ "$$(id -u)" = 0 ]; then ./scripts/deploy-demo.sh $(FIREBREAK); \
	else echo "(apply needs root: skipped)"; fi

test: setup
	$(SWIFT) test

bench: setup
	$(SWIFT) build -c release --product firebreak-bench
	.build/release/firebreak-bench

# Native apply against nft -f and iptables-legacy-restore (root; a scratch namespace).
bench-apply: setup
	$(SWIFT) build -c release --product firebreak-apply-bench
	.build/release/firebreak-apply-bench

bench-import: setup
	$(SWIFT) build -c release --product firebreak-import-bench
	.build/release/firebreak-import-bench

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

clean:
	rm -rf .build
