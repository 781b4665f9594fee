import NetfilterModel
import Testing
import VerdictEngine

/// One packet against one policy: the verdict and what must have decided it.
/// `by` is `table/CHAIN#index`, `table/CHAIN:policy`, prefixed with `NAMESPACE:` when the policy
/// has a topology, or `-` when no chain decided (ARP, no chains, a drop outside netfilter).
struct VerdictCase: CustomTestStringConvertible, Sendable {
  var policy: String
  var packet: String
  var verdict: Simulation.Verdict
  var by: String
  init(_ policy: String, _ packet: String, _ verdict: Simulation.Verdict, _ by: String) {
    self.policy = policy
    self.packet = packet
    self.verdict = verdict
    self.by = by
  }
  var testDescription: String { "\(policy): \(packet) → \(verdict.rawValue) by \(by)" }
}

private let inputBase = "--iif eth0 --dst 192.168.0.1"
private let multiBase = "--iif eth0 --dst 10.0.0.1"

let verdictCases: [VerdictCase] = [
  // A notrack after conntrack leaves the entry; an input chain at -300 sees it.
  .init("conntrackOrder", "--iif eth0 --src 10.0.0.9 --dst 10.0.0.1 --proto udp --dport 9", .drop, "t/early_in#1"),
  // Address types from the topology: R's address on its other interface is local.
  .init("routedTypes", "--from A --dst 10.0.2.1 --proto icmp", .accept, "R:filter/INPUT#1"),
  .init("routedTypes", "--from A --dst 10.0.2.2 --proto icmp", .accept, "R:filter/FORWARD#1"),
  .init("routedTypes", "--from R --dst 10.0.2.2 --proto icmp", .accept, "R:filter/OUTPUT#0"),
  // Address types without topology.
  .init("addressType", "--iif eth0 --src 10.0.0.9 --dst 10.0.0.1 --proto tcp --dport 22", .accept, "filter/INPUT#4"),
  .init("addressType", "--iif eth0 --src 10.0.0.9 --dst 10.0.0.1 --proto tcp --dport 80", .drop, "filter/INPUT:policy"),
  .init(
    "addressType", "--iif eth0 --src 0.0.0.0 --dst 255.255.255.255 --proto udp --dport 67", .accept, "filter/INPUT#0"),
  .init("addressType", "--iif eth0 --src 10.0.0.9 --dst 224.0.0.5 --proto udp --dport 1", .drop, "filter/INPUT#1"),
  .init("addressType", "--iif lo --src 127.0.0.1 --dst 127.0.0.1 --proto tcp --dport 1", .accept, "filter/INPUT#2"),
  .init(
    "addressType", "--iif eth0 --oif eth1 --src 10.0.0.9 --dst 10.255.255.255 --proto tcp --dport 1", .accept,
    "filter/FORWARD#1"),
  .init(
    "addressType", "--iif eth0 --oif eth1 --src 10.0.0.9 --dst 239.1.1.1 --proto udp --dport 1", .drop,
    "filter/FORWARD:policy"),
  .init(
    "addressType", "--iif eth0 --oif eth1 --src 127.0.0.9 --dst 8.8.8.8 --proto udp --dport 1", .drop,
    "filter/FORWARD:policy"),
  .init(
    "addressType", "--hook output --oif eth0 --src 10.0.0.1 --dst 8.8.8.8 --proto tcp --dport 1", .accept,
    "filter/OUTPUT:policy"),
  .init(
    "addressType", "--hook output --oif eth0 --src 0.0.0.0 --dst 8.8.8.8 --proto tcp --dport 1", .drop,
    "filter/OUTPUT#0"),
  // connmark: a new connection's mark is 0; marks saved, set and restored in order.
  .init("connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.1 --proto tcp --dport 1", .accept, "filter/INPUT#2"),
  .init("connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.2 --proto tcp --dport 1", .accept, "filter/INPUT#3"),
  .init("connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto tcp --dport 1", .drop, "filter/INPUT:policy"),
  .init(
    "connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto tcp --dport 1 --ct-state established --ct-mark 0x55",
    .accept, "filter/INPUT#5"),
  .init(
    "connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto tcp --dport 1 --ct-state established --ct-mark 0x5",
    .accept, "filter/INPUT#6"),
  .init(
    "connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto udp --dport 7 --ct-state established --ct-mark 0x5",
    .accept, "filter/INPUT#1"),
  // Untracked (raw notrack): ct mark tests fail negated or not, and `meta mark set ct mark`
  // stops its rule.
  .init("connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto udp --dport 9", .drop, "filter/INPUT:policy"),
  // Before conntrack (priority raw) there is no entry either: the raw ct mark test fails.
  .init("connmark", "--iif eth0 --dst 10.9.9.9 --src 10.0.0.3 --proto udp --dport 10", .drop, "filter/INPUT:policy"),
  // input: one chain with every match kind, jumps, gotos and returns.
  .init("input", "--iif lo --src 127.0.0.1 --dst 127.0.0.1 --proto tcp --dport 1", .accept, "filter/INPUT#0"),
  .init("input", "\(inputBase) --src 1.2.3.4 --proto tcp --dport 1 --ct-state established", .accept, "filter/INPUT#1"),
  .init("input", "\(inputBase) --src 1.2.3.4 --proto udp --dport 1 --ct-state related", .accept, "filter/INPUT#1"),
  .init("input", "\(inputBase) --src 1.2.3.4 --proto tcp --dport 1 --ct-state invalid", .drop, "filter/INPUT#2"),
  .init(
    "input", "\(inputBase) --src 1.2.3.4 --proto tcp --sport 1 --dport 1 --ct-state untracked", .drop,
    "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 10.1.2.3 --proto tcp --dport 22", .accept, "filter/INPUT#3"),
  .init("input", "\(inputBase) --src 11.0.0.1 --proto tcp --dport 22", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 9.255.255.255 --proto tcp --dport 22", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 10.0.0.0 --proto tcp --dport 22", .accept, "filter/INPUT#3"),
  .init("input", "\(inputBase) --src 10.255.255.255 --proto tcp --dport 22", .accept, "filter/INPUT#3"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 80", .drop, "filter/INPUT#4"),
  .init("input", "\(inputBase) --src 10.9.9.9 --proto tcp --dport 80", .drop, "filter/INPUT#4"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 80 --ct-state established", .accept, "filter/INPUT#1"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --dport 80", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 443", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 8080", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1234 --dport 8081", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 4444 --dport 8081", .accept, "filter/INPUT#19"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 79", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 81", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 442", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 443", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 444", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 7999", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 8000", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 8080", .accept, "filter/INPUT#5"),
  .init("input", "\(inputBase) --src 192.168.5.5 --proto tcp --sport 1 --dport 8081", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 192.168.1.7 --proto udp --dport 53", .accept, "filter/INPUT#6"),
  .init("input", "\(inputBase) --src 192.168.2.7 --proto udp --dport 53", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto icmp", .accept, "filter/INPUT#7"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto icmp --icmp-type echo-reply", .drop, "filter/INPUT:policy"),
  .init("input", "--iif veth3 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 5000", .accept, "filter/INPUT#8"),
  .init("input", "--iif veth --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 5000", .accept, "filter/INPUT#8"),
  .init("input", "--iif vet --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 5000", .drop, "filter/INPUT:policy"),
  .init("input", "--iif eth1 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 5000", .drop, "filter/INPUT:policy"),
  .init("input", "--iif eth1 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 5001", .accept, "filter/INPUT#9"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --dport 5001", .drop, "filter/INPUT:policy"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 9999 --mark 0x10", .accept, "filter/INPUT#10"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 22 --mark 0x10", .accept, "filter/INPUT#10"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 9999 --mark 0x1ff", .accept, "filter/INPUT#11"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 9999 --mark 0x100", .accept, "filter/INPUT#11"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 9999 --mark 0x1100", .drop, "filter/INPUT:policy"
  ),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 9999 --mark 0xff", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 10", .accept, "filter/tail#8"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 2222 --ether-src 00:11:22:33:44:55", .accept,
    "filter/INPUT#12"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 2222", .unknown, "-"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 2222 --ether-src 00:11:22:33:44:66", .drop,
    "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 25", .reject, "filter/INPUT#13"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 25 --tcp-flags syn,fin", .reject, "filter/INPUT#13"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 25 --tcp-flags syn,ack", .drop,
    "filter/INPUT:policy"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 1 --dport 25 --tcp-flags ack", .drop, "filter/INPUT:policy"
  ),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 25 --ct-state established", .accept, "filter/INPUT#1"),
  .init("input", "--iif eth0 --src 8.8.8.8 --dst 192.168.9.0 --proto udp --dport 1", .drop, "filter/INPUT:policy"),
  .init("input", "--iif eth0 --src 8.8.8.8 --dst 192.168.9.1 --proto udp --dport 1", .reject, "filter/INPUT#14"),
  .init("input", "--iif eth0 --src 8.8.8.8 --dst 192.168.9.5 --proto udp --dport 1", .reject, "filter/INPUT#14"),
  .init("input", "--iif eth0 --src 8.8.8.8 --dst 192.168.9.9 --proto udp --dport 1", .reject, "filter/INPUT#14"),
  .init("input", "--iif eth0 --src 8.8.8.8 --dst 192.168.9.10 --proto udp --dport 1", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto gre", .accept, "filter/INPUT#16"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --sport 123 --dport 123", .accept, "filter/INPUT#17"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --sport 124 --dport 123", .drop, "filter/INPUT:policy"),
  .init("input", "--iif eth5 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 6000", .accept, "filter/INPUT#18"),
  .init("input", "--iif eth61 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 6000", .accept, "filter/INPUT#18"),
  .init("input", "--iif eth7 --dst 192.168.0.1 --src 8.8.8.8 --proto udp --dport 6000", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 4444 --dport 2000", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 4444 --dport 1001", .accept, "filter/INPUT#19"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --sport 4444 --dport 1000", .drop, "filter/INPUT:policy"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto icmp --icmp-type destination-unreachable --icmp-code 1", .accept,
    "filter/INPUT#20"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto icmp --icmp-type destination-unreachable --icmp-code port-unreachable",
    .accept, "filter/INPUT#20"),
  .init(
    "input", "\(inputBase) --src 8.8.8.8 --proto icmp --icmp-type destination-unreachable --icmp-code 2", .drop,
    "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 198.17.255.255 --proto udp --dport 7", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 198.18.0.0 --proto udp --dport 7", .drop, "filter/INPUT#21"),
  .init("input", "\(inputBase) --src 198.18.5.5 --proto udp --dport 7", .drop, "filter/INPUT#21"),
  .init("input", "\(inputBase) --src 198.19.255.255 --proto udp --dport 7", .drop, "filter/INPUT#21"),
  .init("input", "\(inputBase) --src 198.20.0.0 --proto udp --dport 7", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 198.18.5.5 --proto icmp --icmp-type echo-reply", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 7", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto tcp --dport 8", .accept, "filter/tail#1"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --dport 8", .drop, "filter/tail2#0"),
  .init("input", "\(inputBase) --src 172.16.1.1 --proto udp --dport 8", .drop, "filter/tail2#0"),
  .init("input", "\(inputBase) --src 172.16.1.1 --proto udp --dport 9", .accept, "filter/tail#4"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --dport 9", .reject, "filter/tail2#2"),
  .init("input", "\(inputBase) --src 172.16.1.1 --proto udp --dport 11", .drop, "filter/INPUT:policy"),
  .init("input", "\(inputBase) --src 8.8.8.8 --proto udp --dport 11", .drop, "filter/INPUT:policy"),
  .init("input", "--iif eth0 --src 2001:db8::1 --dst 2001:db8::2 --proto tcp --dport 22", .accept, "-"),
  .init("input", "--proto arp --dst 192.168.0.1", .accept, "-"),
  .init("input", "--dst 192.168.0.1 --src 8.8.8.8 --proto tcp --dport 22", .unknown, "-"),

  // multi: several tables and families on the same hooks, in priority order.
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto udp --dport 111", .drop, "raw/PREROUTING#0"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto udp --dport 112", .accept, "early/in:policy"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto tcp --dport 81", .drop, "early/in#0"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto tcp --dport 82", .drop, "filter/INPUT#0"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto tcp --dport 83", .drop, "filter/INPUT#1"),
  .init("multi", "\(multiBase) --src 10.1.1.1 --proto tcp --dport 83", .accept, "early/in:policy"),
  .init("multi", "\(multiBase) --src 203.0.113.5 --proto tcp --dport 1", .drop, "early/pre#0"),
  .init("multi", "--iif eth0 --src 2001:db8:bad::1 --dst 2001:db8::1 --proto udp --dport 1", .drop, "early/pre#1"),
  .init("multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::1 --proto icmpv6", .accept, "filter6/INPUT#0"),
  .init("multi", "--iif eth0 --src fe80::1 --dst 2001:db8::1 --proto udp --dport 546", .accept, "filter6/INPUT#1"),
  .init(
    "multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::1 --proto udp --dport 546", .drop, "filter6/INPUT:policy"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto udp --dport 999", .reject, "early/in#1"),
  .init("multi", "--iif eth0 --src fe80::1 --dst 2001:db8::1 --proto udp --dport 999", .drop, "filter6/INPUT:policy"),
  .init("multi", "\(multiBase) --src 8.8.8.8 --proto udp --dport 7777", .drop, "early/pre#3"),
  .init("multi", "\(multiBase) --src 1.2.3.4 --proto udp --dport 7777", .accept, "early/in:policy"),
  .init(
    "multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::1 --proto udp --dport 7777", .drop, "filter6/INPUT:policy"),
  .init("multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::15 --proto tcp --dport 22", .accept, "filter6/INPUT#2"),
  .init("multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::10 --proto tcp --dport 22", .accept, "filter6/INPUT#2"),
  .init(
    "multi", "--iif eth0 --src 2001:db8::5 --dst 2001:db8::21 --proto tcp --dport 22", .drop, "filter6/INPUT:policy"),
  .init(
    "multi", "--iif eth0 --oif eth1 --src 8.8.8.8 --dst 9.9.9.9 --proto tcp --dport 1", .accept, "filter/FORWARD#0"),
  .init(
    "multi", "--iif eth1 --oif eth0 --src 8.8.8.8 --dst 9.9.9.9 --proto tcp --dport 1", .drop, "filter/FORWARD:policy"),
  .init(
    "multi", "--iif eth1 --oif eth0 --src 8.8.8.8 --dst 9.9.9.9 --proto tcp --dport 1 --ct-state established",
    .accept, "filter/FORWARD#1"),
  .init(
    "multi", "--iif eth0 --oif eth1 --src 8.8.8.8 --dst 9.9.9.9 --proto udp --dport 111", .drop, "raw/PREROUTING#0"),
  .init(
    "multi", "--iif eth0 --oif eth1 --src 8.8.8.8 --dst 9.9.9.9 --proto tcp --dport 81", .accept, "filter/FORWARD#0"),
  .init(
    "multi", "--hook output --oif eth9 --src 10.0.0.1 --dst 9.9.9.9 --proto tcp --dport 1", .drop, "filter/OUTPUT#0"),
  .init(
    "multi", "--hook output --oif eth1 --src 10.0.0.1 --dst 9.9.9.9 --proto tcp --dport 84", .drop, "filter/OUTPUT#2"),
  .init(
    "multi", "--hook output --oif eth1 --src 10.0.0.1 --dst 9.9.9.9 --proto tcp --dport 85", .accept,
    "filter/OUTPUT:policy"),
  .init(
    "multi", "--hook output --oif eth1 --src 10.0.0.1 --dst 9.9.9.9 --proto udp --dport 111", .accept,
    "filter/OUTPUT:policy"),

  // nat: DNAT before the routing decision, redirect, SNAT, nat chains only for new connections.
  .init(
    "nat", "--iif eth0 --oif eth1 --src 198.51.100.7 --dst 203.0.113.1 --proto tcp --dport 8080", .accept,
    "filter/FORWARD#0"),
  .init(
    "nat", "--iif eth0 --oif eth1 --src 198.51.100.7 --dst 203.0.113.1 --proto tcp --dport 8080 --ct-state established",
    .drop, "filter/FORWARD:policy"),
  .init(
    "nat", "--iif eth1 --oif eth0 --src 198.51.100.7 --dst 203.0.113.1 --proto tcp --dport 8080", .drop,
    "filter/FORWARD:policy"),
  .init("nat", "--iif eth0 --src 8.8.8.8 --dst 203.0.113.1 --proto tcp --dport 3128", .accept, "filter/INPUT#0"),
  .init("nat", "--iif eth0 --src 8.8.8.8 --dst 203.0.113.1 --proto tcp --dport 3129", .drop, "filter/INPUT:policy"),
  .init(
    "nat", "--iif eth1 --oif eth0 --src 192.168.1.5 --dst 8.8.8.8 --proto udp --dport 53", .accept, "filter/FORWARD#1"),
  .init("nat", "--iif eth0 --src 8.8.8.8 --dst 203.0.113.1 --proto udp --dport 4000", .drop, "dropnat/early#0"),
  .init(
    "nat", "--iif eth0 --src 8.8.8.8 --dst 203.0.113.1 --proto udp --dport 4000 --ct-state established", .drop,
    "filter/INPUT:policy"),
  // Without topology the path is fixed: the DNATed packet stays on input (and the answer says so).
  .init("nat", "--iif eth0 --src 8.8.8.8 --dst 203.0.113.1 --proto tcp --dport 8080", .drop, "filter/INPUT:policy"),

  // families: meta nfproto and iif/oif (an interface's index stands for its name).
  .init("families", "--iif lo --src 127.0.0.1 --dst 127.0.0.1 --proto tcp --dport 1", .accept, "fw/input#0"),
  .init("families", "--iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto udp --dport 68", .accept, "fw/input#1"),
  .init("families", "--iif eth0 --src fd00::1 --dst fd00::2 --proto udp --dport 68", .drop, "fw/input:policy"),
  .init("families", "--iif eth0 --src fd00::1 --dst fd00::2 --proto udp --dport 546", .accept, "fw/input#2"),
  .init("families", "--iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto udp --dport 546", .drop, "fw/input:policy"),
  .init("families", "--iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto tcp --dport 22", .drop, "fw/input:policy"),
  .init("families", "--iif eth1 --src 1.2.3.4 --dst 10.0.0.1 --proto tcp --dport 22", .accept, "fw/input#3"),
  .init(
    "families", "--hook output --oif lo --src 127.0.0.1 --dst 127.0.0.1 --proto tcp --dport 1", .accept,
    "fw/output#0"),
  // Output has no input interface: `iif "lo"` does not hold there.
  .init(
    "families", "--hook output --oif eth0 --src 10.0.0.1 --dst 1.2.3.4 --proto tcp --dport 25", .drop,
    "fw/output:policy"),

  // lab: bridged traffic through host's ip hooks, physdev, per-namespace firewalls.
  .init("lab", "--from RED --dst 11.11.11.3 --proto icmp", .accept, "host:filter/FORWARD#0"),
  .init("lab", "--src 11.11.11.2 --dst 11.11.11.3 --proto icmp", .accept, "host:filter/FORWARD#0"),
  .init("lab", "--from RED --dst 11.11.11.3 --proto udp --dport 53", .accept, "host:filter/FORWARD#0"),
  .init("lab", "--from BLUE --dst 11.11.11.2 --proto icmp", .accept, "host:filter/FORWARD#1"),
  .init("lab", "--from BLUE --dst 11.11.11.2 --proto udp --dport 53", .drop, "host:filter/FORWARD:policy"),
  .init("lab", "--from BLUE --dst 11.11.11.2 --proto tcp --dport 22", .drop, "host:filter/FORWARD:policy"),
  .init("lab", "--from RED --dst 11.11.11.3 --proto tcp --dport 22", .drop, "BLUE:filter/INPUT#0"),
  .init("lab", "--from RED --dst 11.11.11.3 --proto tcp --dport 22 --src 11.11.11.2", .drop, "BLUE:filter/INPUT#0"),
  .init("lab", "--from RED --dst 11.11.11.3 --proto tcp --dport 23", .reject, "RED:filter/OUTPUT#0"),
  .init("lab", "--from RED --dst 11.11.11.9 --proto icmp", .drop, "-"),
  .init("lab", "--from RED --dst 10.0.0.1 --proto icmp", .drop, "-"),
  .init("lab", "--from RED --dst 11.11.11.3 --proto arp", .accept, "-"),
  .init("lab", "--from RED --dst 11.11.11.9 --proto arp", .drop, "-"),
  .init("lab", "--from BLUE --dst 11.11.11.1 --proto tcp --dport 22", .drop, "host:filter/INPUT#0"),
  .init("lab", "--from RED --dst 11.11.11.1 --proto tcp --dport 22", .accept, "host:filter/INPUT:policy"),
  .init("lab", "--from BLUE --dst 11.11.11.3 --proto tcp --dport 22", .accept, "BLUE:filter/INPUT:policy"),
  .init("lab", "--from RED --dst 11.11.11.2 --proto icmp", .accept, "RED:filter/OUTPUT:policy"),
  .init("labNoBridgeHooks", "--from RED --dst 11.11.11.3 --proto icmp", .accept, "-"),
  .init("labNoBridgeHooks", "--from RED --dst 11.11.11.3 --proto arp", .accept, "-"),

  // routed: forwarding between namespaces, routes, masquerade, ip_forward.
  .init("routed", "--from A --dst 10.0.2.2 --proto icmp", .accept, "B:filter/INPUT#0"),
  .init("routed", "--from A --dst 10.0.2.2 --proto udp --dport 53", .drop, "B:filter/INPUT:policy"),
  .init("routed", "--from B --dst 10.0.1.2 --proto icmp", .drop, "R:filter/FORWARD:policy"),
  .init("routed", "--from B --dst 10.0.1.2 --proto icmp --ct-state established", .accept, "R:filter/FORWARD#1"),
  .init("routed", "--from A --dst 10.0.1.1 --proto icmp", .accept, "-"),
  .init("routed", "--from A --dst 10.0.3.2 --proto udp --dport 53", .accept, "R:filter/FORWARD#2"),
  .init("routed", "--from A --dst 10.0.3.2 --proto udp --dport 54", .drop, "R:filter/FORWARD:policy"),
  .init("routed", "--from C --dst 10.0.2.2 --proto icmp", .drop, "-"),
  .init("routed", "--from A --dst 10.9.9.9 --proto icmp", .drop, "-"),
  .init("routed", "--from B --dst 10.0.2.1 --proto icmp", .accept, "-"),
]

@Suite struct VerdictTableTests {
  @Test func enoughCases() {
    #expect(verdictCases.count >= 150)
  }

  @Test(arguments: verdictCases)
  func verdict(_ c: VerdictCase) throws {
    let policy = try Policies.policy(c.policy)
    let request = try PacketOptions.request(words: c.packet.split(separator: " ").map(String.init))
    let result = try Simulator(policy: policy).simulate(request)
    #expect(
      result.verdict == c.verdict,
      "reason: \(result.reason ?? "-"); trace: \(result.trace.map { "\($0.chain)#\($0.index ?? -1) \($0.action)" })")
    #expect(describe(result.decidedBy) == c.by)
    if c.verdict == .unknown { #expect(result.reason != nil) }
  }

  func describe(_ d: Decision?) -> String {
    guard let d else { return "-" }
    let place = "\(d.table)/\(d.chain)" + (d.index.map { "#\($0)" } ?? ":policy")
    return d.namespace.map { "\($0):\(place)" } ?? place
  }
}
