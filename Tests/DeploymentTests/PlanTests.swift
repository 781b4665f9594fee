import Deployment
import NetfilterModel
import PolicyLanguage
import Testing
import VerdictEngine

/// Resolves an in-memory policy to the ruleset of its (only) firewall.
func ruleset(_ text: String, file: String = "lab.policy") throws -> Ruleset {
  var resolver = Resolver(source: MemorySource([file: text]))
  let (policy, diagnostics) = resolver.resolve(path: file)
  guard let policy, let firewall = policy.firewalls.first else {
    throw PolicyError(diagnostics: diagnostics.map(\.description))
  }
  return firewall.ruleset
}

struct PolicyError: Error { var diagnostics: [String] }

/// An inet filter table with an input chain of `rules` and policy `policy`.
func server(_ rules: [String], policy: String = "drop") -> String {
  """
  table inet filter {
    chain input {
      type filter hook input priority filter; policy \(policy);
  \(rules.map { "    " + $0 }.joined(separator: "\n"))
    }
  }
  """
}

let baseRules = [
  "iifname \"lo\" accept", "ct state established,related accept", "tcp dport 22 accept", "tcp dport 80 accept",
  "tcp dport 443 accept", "icmp type echo-request accept",
]

let keepUsage = "expected SRC:PORT, e.g. 192.0.2.10:22 or [2001:db8::1]:22"

@Suite struct RulesetDiffTests {
  @Test func insertedRuleIsOneAddition() throws {
    let old = try ruleset(server(baseRules))
    var rules = baseRules
    rules.insert("udp dport 53 accept", at: 3)
    let new = try ruleset(server(rules), file: "new.policy")
    let diff = RulesetDiff(old: old, new: new)
    #expect(diff.entries.count == 1)
    #expect((diff.added, diff.removed, diff.changed) == (1, 0, 0))
    #expect(diff.text == "+ rule inet filter input [3]: udp dport 53 accept  (new.policy:7:5)")
  }

  @Test func movedRuleIsOneRemovalAndOneAddition() throws {
    let old = try ruleset(server(baseRules))
    var rules = baseRules
    rules.append(rules.remove(at: 2))
    let diff = RulesetDiff(old: old, new: try ruleset(server(rules)))
    #expect(
      diff.entries.map(\.text) == [
        "- rule inet filter input [2]: tcp dport 22 accept  (lab.policy:6:5)",
        "+ rule inet filter input [5]: tcp dport 22 accept  (lab.policy:9:5)",
      ])
  }

  @Test func chainPolicyChange() throws {
    let diff = RulesetDiff(
      old: try ruleset(server(baseRules, policy: "accept")), new: try ruleset(server(baseRules, policy: "drop")))
    #expect(diff.entries.map(\.text) == ["~ chain inet filter input: policy accept -> drop  (lab.policy:2:3)"])
    #expect((diff.added, diff.removed, diff.changed) == (0, 0, 1))
  }

  @Test func tableRemoval() throws {
    let nat = """
      table ip nat {
        chain postrouting {
          type nat hook postrouting priority srcnat; policy accept;
          oifname "eth0" masquerade
        }
      }
      """
    let old = try ruleset(server(baseRules) + "\n" + nat)
    let diff = RulesetDiff(old: old, new: try ruleset(server(baseRules)))
    #expect(
      diff.entries.map(\.text) == [
        "- table ip nat  (lab.policy:12:1)",
        "- chain ip nat postrouting: type nat hook postrouting priority srcnat; policy accept  (lab.policy:13:3)",
        "- rule ip nat postrouting [0]: oifname \"eth0\" masquerade  (lab.policy:15:5)",
      ])
    #expect((diff.added, diff.removed, diff.changed) == (0, 3, 0))
  }

  @Test func setElementsChange() throws {
    let old = try ruleset(Policies.router)
    let new = try ruleset(Policies.router.replacing("198.51.100.7", with: "198.51.100.8"))
    #expect(
      RulesetDiff(old: old, new: new).entries.map(\.text) == [
        "~ set inet filter admins: + 198.51.100.8, - 198.51.100.7  (lab.policy:2:3)"
      ])
  }

  @Test func identicalRulesetsHaveNoDiff() throws {
    let r = try ruleset(Policies.router)
    #expect(RulesetDiff(old: r, new: r).isEmpty)
  }
}

@Suite struct FlowChangeTests {
  @Test func startDroppingSSH() throws {
    let old = try ruleset(server(baseRules))
    var rules = baseRules
    rules.insert("tcp dport 22 drop", at: 2)
    let changes = FlowChanges(old: old, new: try ruleset(server(rules)))
    #expect(
      changes.changes.map(\.text).contains(
        "tcp/22 from 198.51.100.1 to 10.0.0.1 (input): accept -> drop (new: inet filter input [2] tcp dport 22 drop, lab.policy:6:5)"
      ))
    // Only ssh to this host changes, whatever the source or interface of the packet.
    #expect(changes.count > 0)
    #expect(changes.changes.allSatisfy { $0.flow.hasPrefix("tcp/22 ") && $0.hook == .input && $0.new == .drop })
  }

  @Test func identicalRulesetsChangeNoFlow() throws {
    let r = try ruleset(Policies.router)
    let changes = FlowChanges(old: r, new: r)
    #expect(changes.count == 0)
    #expect(changes.probeCount > 20)
  }

  @Test func fromNoFirewall() throws {
    let changes = FlowChanges(old: Ruleset(), new: try ruleset(server(baseRules)))
    // Input traffic to closed ports stops; ssh, web and ping to this host still pass.
    #expect(changes.changes.contains { $0.flow == "udp/53 from 198.51.100.1 to 10.0.0.1 (input)" && $0.new == .drop })
    #expect(!changes.changes.contains { $0.flow.hasPrefix("tcp/22 from 198.51.100.1 to 10.0.0.1 (input") })
    #expect(changes.changes.allSatisfy { $0.old == .accept && $0.hook == .input })
  }

  @Test func printedListIsCapped() throws {
    let changes = FlowChanges(old: Ruleset(), new: try ruleset(server([], policy: "drop")))
    #expect(changes.count > 3)
    let lines = changes.text(limit: 3).split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines.last == "… and \(changes.count - 3) more")
  }

  @Test func ruleInRegularChainIsProbedOnItsPath() throws {
    let old = try ruleset(
      """
      table ip filter {
        chain FORWARD {
          type filter hook forward priority filter; policy accept;
          ip saddr 192.168.0.0/16 jump lan
        }
        chain lan {
          udp dport 5000-5010 accept
        }
      }
      """)
    var new = old
    new.tables[0].chains[1].rules[0].verdict = .drop
    let changes = FlowChanges(old: old, new: new)
    #expect(changes.changes.map(\.flow) == ["udp/5000 from 192.168.0.1 to 10.0.0.2 (forward)"])
  }
}

@Suite struct LockoutTests {
  let session = "192.0.2.10 51234 10.0.0.1 22"

  @Test func dropSSHFromClientIsLockout() throws {
    let flow = try ManagementFlow(sshConnection: session)
    let plan = Plan(
      old: try ruleset(server(baseRules)),
      new: try ruleset(server(["ip saddr 192.0.2.0/24 tcp dport 22 drop"] + baseRules)), management: [flow])
    #expect(plan.isLockout)
    #expect(
      plan.managementChecks[0].probes.filter { $0.outcome == .blocked }.map(\.name) == [
        "current session", "new connection",
      ])
    #expect(
      plan.text.contains("!!! LOCKOUT: the new ruleset would cut off SSH session 192.0.2.10:51234 -> 10.0.0.1:22 !!!"))
    #expect(plan.record.isLockout)
    #expect(plan.record.management[0].outcome == "blocked")
  }

  @Test func acceptingEstablishedIsNoLockout() throws {
    let flow = try ManagementFlow(sshConnection: session)
    let plan = Plan(old: Ruleset(), new: try ruleset(server(baseRules)), management: [flow])
    #expect(!plan.isLockout)
    #expect(plan.managementChecks[0].outcome == .passes)
    #expect(!plan.text.contains("LOCKOUT"))
    // `iifname "lo" accept` needs the interface; every other interface gives the same verdict.
    #expect(plan.managementChecks[0].probes[2].reason?.contains("the same on every interface the rules name") == true)
  }

  @Test func newConnectionsOnlyFromElsewhere() throws {
    // The session survives (established accepted) but the next login is refused: still a lockout.
    let flow = try ManagementFlow(sshConnection: session)
    let rules = server(["ct state established accept", "ip saddr 203.0.113.0/24 tcp dport 22 accept"])
    let check = ManagementCheck(flow: flow, ruleset: try ruleset(rules))
    #expect(check.isLockout)
    #expect(check.probes.map(\.outcome) == [.passes, .passes, .blocked])
  }

  @Test func ipv6Session() throws {
    let flow = try ManagementFlow(sshConnection: "2001:db8::10 40022 2001:db8::1 2222")
    #expect(flow.client == IPPrefix(IPAddress("2001:db8::10")!))
    #expect(flow.server == IPAddress("2001:db8::1"))
    #expect(flow.clientPort == 40022 && flow.serverPort == 2222)
    #expect(flow.description == "SSH session [2001:db8::10]:40022 -> [2001:db8::1]:2222")
    let rules = server(["ct state established accept", "ip6 saddr 2001:db8::/64 tcp dport 2222 drop"])
    let check = ManagementCheck(flow: flow, ruleset: try ruleset(rules))
    #expect(check.probes.map(\.outcome) == [.passes, .passes, .blocked])
    // The same kind of policy does not touch an IPv4 session.
    let v4 = try ManagementFlow(sshConnection: "192.0.2.10 40022 10.0.0.1 2222")
    let v4Rules = server(["ct state established accept", "ip6 saddr 2001:db8::/64 tcp dport 2222 drop", "accept"])
    #expect(ManagementCheck(flow: v4, ruleset: try ruleset(v4Rules)).outcome == .passes)
  }

  @Test func mappedAndZonedAddresses() throws {
    let mapped = try ManagementFlow(sshConnection: "::ffff:192.0.2.10 5000 ::ffff:10.0.0.1 22")
    #expect(mapped.client == IPPrefix(IPAddress("192.0.2.10")!))
    let zoned = try ManagementFlow(sshConnection: "fe80::1%eth3 5000 fe80::2%eth3 22")
    #expect(zoned.inputInterface == "eth3")
  }

  @Test func unknownInterfaceCannotTell() throws {
    let rules = try ruleset(server(["iifname \"eth0\" tcp dport 22 accept"]))
    let flow = try ManagementFlow(sshConnection: session)
    let check = ManagementCheck(flow: flow, ruleset: rules)
    #expect(check.outcome == .cannotTell)
    #expect(check.probes[0].reason?.contains("the interface the management traffic uses is not known") == true)
    #expect(check.probes[2].reason?.hasSuffix("it depends on the interface: accept on eth0; drop on fbplan0") == true)
    let plan = Plan(old: rules, new: rules, management: [flow])
    #expect(!plan.isLockout && plan.isLockoutUncertain)
    #expect(plan.text.contains("!!! LOCKOUT CHECK CANNOT TELL"))
    // With the interface looked up, the engine decides.
    let known = try ManagementFlow(sshConnection: session, inputInterface: "eth0")
    #expect(ManagementCheck(flow: known, ruleset: rules).outcome == .passes)
    let other = try ManagementFlow(sshConnection: session, inputInterface: "eth1")
    #expect(ManagementCheck(flow: other, ruleset: rules).isLockout)
  }

  @Test func keepPrefix() throws {
    let keep = try ManagementFlow(keep: "192.0.2.0/24:22")
    #expect(keep.client.description == "192.0.2.0/24")
    #expect(keep.description == "--keep 192.0.2.0/24:22")
    // Half of the prefix is dropped: its last host is locked out, its first is not.
    let rules = server(["ip saddr 192.0.2.128/25 drop", "tcp dport 22 accept"])
    let check = ManagementCheck(flow: keep, ruleset: try ruleset(rules))
    #expect(check.isLockout)
    let blocked = check.probes.filter { $0.outcome == .blocked }
    #expect(blocked.count == 2 && blocked.allSatisfy { $0.name.hasSuffix("from 192.0.2.254") })
    let v6 = try ManagementFlow(keep: "[2001:db8::/64]:22")
    #expect(v6.client.description == "2001:db8::/64")
    #expect(try ManagementFlow(keep: "[2001:db8::7]:2222").description == "--keep [2001:db8::7]:2222")
  }

  @Test(arguments: [
    ("192.0.2.10", "missing ':PORT'"),
    ("192.0.2.10:ssh", "'ssh' is not a port (1-65535)"),
    ("192.0.2.10:0", "'0' is not a port (1-65535)"),
    ("2001:db8::1:22", "an IPv6 source needs brackets"),
    ("[2001:db8::1:22", "missing ']' after the IPv6 source"),
    ("[192.0.2.1]:22", "brackets are for IPv6 sources"),
    ("host.example:22", "'host.example' is not an IP address or prefix"),
    ("192.0.2.0/33:22", "'192.0.2.0/33' is not an IP address or prefix"),
    (":22", "missing source address"),
  ])
  func keepErrors(input: String, why: String) {
    #expect(throws: ManagementFlowError("--keep '\(input)': \(why); \(keepUsage)")) {
      try ManagementFlow(keep: input)
    }
  }

  @Test(arguments: [
    (
      "192.0.2.10 51234 10.0.0.1",
      "SSH_CONNECTION '192.0.2.10 51234 10.0.0.1' must have 4 fields: client_ip client_port server_ip server_port"
    ),
    ("192.0.2.x 51234 10.0.0.1 22", "SSH_CONNECTION: client address '192.0.2.x' is not an IP address"),
    (
      "192.0.2.10 51234 2001:db8::1 22",
      "SSH_CONNECTION: client 192.0.2.10 and server 2001:db8::1 are of different IP versions"
    ),
    ("192.0.2.10 51234 10.0.0.1 70000", "SSH_CONNECTION: server port '70000' is not a port (1-65535)"),
  ])
  func sshConnectionErrors(input: String, message: String) {
    #expect(throws: ManagementFlowError(message)) { try ManagementFlow(sshConnection: input) }
  }
}

@Suite struct PlanTextTests {
  @Test func reportHasAllThreeParts() throws {
    let old = try ruleset(server(baseRules, policy: "accept"))
    let new = try ruleset(server(baseRules))
    let plan = Plan(old: old, new: new, management: [try ManagementFlow(keep: "192.0.2.10:22")])
    let text = plan.text
    #expect(text.hasPrefix("Rules: 0 added, 0 removed, 1 changed\n  ~ chain inet filter input: policy accept -> drop"))
    #expect(plan.flowChanges.count > 0)
    #expect(text.contains("\nFlows: \(plan.flowChanges.count) whose verdict changes"))
    #expect(text.contains("\n  --keep 192.0.2.10:22: passes\n"))
    #expect(plan.record.changed == 1 && plan.record.flowChangeCount == plan.flowChanges.count)
    #expect(plan.record.diff.map(\.source) == ["lab.policy:2:3"])
  }
}

enum Policies {
  static let router = """
    table inet filter {
      set admins { type ipv4_addr; flags interval; elements = { 192.0.2.0/24, 198.51.100.7 } }
      chain input {
        type filter hook input priority filter; policy drop;
        iifname "lo" accept
        ct state established,related accept
        ip saddr @admins tcp dport 22 accept
        iifname != "wan0" udp dport { 53, 67 } accept
        icmp type echo-request accept
      }
      chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "lan0" oifname "wan0" accept
        ip daddr 10.0.0.5 tcp dport { 80, 443 } accept
      }
      chain output {
        type filter hook output priority filter; policy accept;
        meta mark 0x1 drop
      }
    }
    table ip nat {
      chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "wan0" tcp dport 8080 dnat to 10.0.0.5:80
      }
      chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
      }
    }
    """
}
