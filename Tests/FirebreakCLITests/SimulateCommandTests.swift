import FirebreakCLI
import PolicyLanguage
import Testing

@Suite struct SimulateCommandTests {
  let lab = """
    topology {
      namespace host
      namespace RED
      namespace BLUE
      bridge br0 in host
      veth reth0 in RED peer reth1 in host master br0
      veth beth0 in BLUE peer beth1 in host master br0
      address 11.11.11.2/24 dev reth0
      address 11.11.11.3/24 dev beth0
    }

    firewall host {
      table ip filter {
        chain FORWARD {
          type filter hook forward priority filter; policy drop;
          ip saddr 11.11.11.0/24 accept
        }
      }
    }

    """

  let plain = """
    table ip filter {
      chain INPUT {
        type filter hook input priority filter; policy drop;
        tcp dport 22 accept
      }
    }

    """

  func run(_ args: [String], _ files: [String: String]) -> (Int32, Console) {
    let console = Console.capturing()
    return (CLI(console: console, source: MemorySource(files)).run(args), console)
  }

  @Test func jsonFollowsTheContractWithTopology() {
    let (status, c) = run(
      ["simulate", "lab.policy", "--from", "RED", "--dst", "11.11.11.3", "--proto", "icmp", "--json"],
      ["lab.policy": lab])
    #expect(status == 0)
    #expect(
      c.out.hasPrefix(
        """
        {"verdict": "accept", "decided_by": {"namespace": "host", "family": "ip", "table": "filter", "chain": "FORWARD", "index": 0, "rule": "ip saddr 11.11.11.0/24 accept", "hook": "forward", "source": "lab.policy:16:7"}, "path": ["RED:output", "RED:postrouting", "host:prerouting", "host:forward", "host:postrouting", "BLUE:prerouting", "BLUE:input"], "trace": [{"namespace": "host", "hook": "forward", "family": "ip", "table": "filter", "chain": "FORWARD", "index": 0, "rule": "ip saddr 11.11.11.0/24 accept", "matched": true, "action": "accept", "source": "lab.policy:16:7"}], "assumptions": [], "namespaces": [{"namespace": "RED", "verdict": "accept"}, {"namespace": "host", "verdict": "accept"}, {"namespace": "BLUE", "verdict": "accept"}]}
        """))
  }

  @Test func policyDecisionHasNullIndexAndNoNamespaceWithoutTopology() {
    let (status, c) = run(
      ["simulate", "p.policy", "--iif", "eth0", "--src", "1.2.3.4", "--dst", "10.0.0.1", "--dport", "80", "--json"],
      ["p.policy": plain])
    #expect(status == 0)
    #expect(
      c.out.contains(
        #""verdict": "drop", "decided_by": {"family": "ip", "table": "filter", "chain": "INPUT", "index": null, "rule": "policy drop""#
      ))
    #expect(c.out.contains(#""path": ["prerouting", "input"]"#))
    #expect(!c.out.contains("namespace"))
  }

  @Test func unknownComesWithAReason() {
    let (status, c) = run(
      ["simulate", "p.policy", "--dst", "10.0.0.1", "--proto", "tcp", "--iif", "eth0", "--json"], ["p.policy": plain])
    #expect(status == 0)
    #expect(c.out.contains(#""verdict": "unknown""#))
    #expect(
      c.out.contains(
        #""reason": "rule \"tcp dport 22 accept\" in chain ip filter INPUT: cannot evaluate 'tcp dport 22': the packet's destination port was not given (--dport)""#
      ))
  }

  @Test func batchPrintsOneObjectPerLineAndReportsBadLines() {
    let batch = """
      # packets, one per line
      --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --dport 22
      --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --dport 23

      --iif eth0 --dst nonsense
      """
    let (status, c) = run(["simulate", "p.policy", "--batch", "b.txt"], ["p.policy": plain, "b.txt": batch])
    #expect(status == 2)
    let lines = c.out.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix(#"{"verdict": "accept""#))
    #expect(lines[1].hasPrefix(#"{"verdict": "drop""#))
    #expect(lines[2] == #"{"line": 5, "error": "--dst 'nonsense' is not an IP address"}"#)
    #expect(c.err.contains("b.txt:5:1: error: --dst 'nonsense' is not an IP address"))
  }

  @Test(arguments: [
    (["simulate", "p.policy", "--dst", "10.0.0.1", "--dport", "99999"], "--dport '99999' is not a port (0-65535)"),
    (
      ["simulate", "p.policy", "--dst", "10.0.0.1", "--proto", "sctpx"],
      "--proto 'sctpx' is not a protocol (tcp, udp, icmp, icmpv6, arp or a number)"
    ),
    (["simulate", "p.policy", "--src", "1.2.3.4"], "missing --dst"),
    (["simulate", "p.policy", "--dst", "10.0.0.1", "--from", "RED"], "--from needs a policy with a topology"),
    (
      ["simulate", "lab.policy", "--dst", "11.11.11.3", "--from", "GREEN"],
      "namespace 'GREEN' is not in the topology (it has: host, RED, BLUE)"
    ),
    (
      ["simulate", "lab.policy", "--dst", "11.11.11.3", "--iif", "eth0"],
      "--iif is decided by the policy's topology; use --from NAMESPACE"
    ),
  ])
  func badPacketOptionsExit2(args: [String], message: String) {
    let (status, c) = run(args, ["p.policy": plain, "lab.policy": lab])
    #expect(status == 2)
    #expect(c.out.isEmpty)
    #expect(c.err == "firebreak: error: \(message) (try 'firebreak simulate --help')\n")
  }

  @Test func humanTraceNamesTheDecidingRule() {
    let (status, c) = run(
      ["simulate", "lab.policy", "--from", "RED", "--dst", "11.11.11.3", "--proto", "icmp"], ["lab.policy": lab])
    #expect(status == 0)
    #expect(
      c.out.contains(
        "verdict: ACCEPT by host ip filter FORWARD rule 0: ip saddr 11.11.11.0/24 accept (lab.policy:16:7)"))
    #expect(!c.out.contains("\u{1B}["))  // no colour when not a terminal
  }

  @Test func batchAcceptsCRLF() {
    let batch =
      "--iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --dport 22\r\n--iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --dport 23\r\n"
    let (status, c) = run(["simulate", "p.policy", "--batch", "b.txt"], ["p.policy": plain, "b.txt": batch])
    #expect(status == 0)
    #expect(c.out.split(separator: "\n").count == 2)
  }

  @Test func locallyGeneratedPacketsHaveNoInputInterfaceAtPostrouting() {
    let policy = """
      table ip filter {
        chain post {
          type filter hook postrouting priority 0; policy accept;
          iifname "eth0" drop
        }
      }

      """
    let (status, c) = run(
      ["simulate", "k.policy", "--dst", "8.8.8.8", "--oif", "eth1", "--json"], ["k.policy": policy])
    #expect(status == 0)
    #expect(c.out.hasPrefix(#"{"verdict": "accept""#))
  }

  @Test func compileWithoutTablesIsAnError() {
    let (status, c) = run(["compile", "-o", "/tmp/never-written.nft", "t.policy"], ["t.policy": "topology {\n}\n"])
    #expect(status == 2)
    #expect(c.err == "firebreak: error: t.policy declares no table to compile\n")
  }
}
